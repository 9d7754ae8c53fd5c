/*
 * The one layout of every page the service shows the grower (result, popup end, expired link,
 * unavailable, error pages, and the pages the Node server writes itself for unparseable requests).
 */

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=/]/g, (char) => `&#${char.charCodeAt(0)};`)
}

export interface PageOptions {
  title: string
  heading: string
  paragraphs: string[]
  /** Attributes for <main>, e.g. data-raven; values are escaped here. */
  mainAttributes?: Record<string, string>
  /** Scripts from this origin only: the CSP forbids inline script. */
  scripts?: string[]
  tone: 'success' | 'error' | 'info'
}

/** The one layout every grower-facing page uses: small, readable on a phone, no inline script or style. */
export function renderPage(options: PageOptions): string {
  const attributes = Object.entries(options.mainAttributes ?? {})
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('')
  const scripts = (options.scripts ?? []).map((src) => `<script type="module" src="${escapeHtml(src)}"></script>`).join('')
  const paragraphs = options.paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n      ')
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>${escapeHtml(options.title)}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/page.css">
    ${scripts}
  </head>
  <body>
    <main class="card tone-${options.tone}"${attributes}>
      <h1>${escapeHtml(options.heading)}</h1>
      ${paragraphs}
    </main>
  </body>
</html>
`
}

/** Redis or Raven unreachable: nothing was changed, try again. */
export function renderUnavailablePage(): string {
  return renderPage({
    title: 'Temporarily unavailable',
    heading: 'Connecting Raven is temporarily unavailable',
    paragraphs: ['Nothing was changed. Please go back to the app and try again in a minute.'],
    mainAttributes: { 'data-raven': 'error', 'data-reason': 'server_error' },
    tone: 'error',
  })
}

/**
 * Anything unexpected on a browser route: never a stack trace or the framework's default page. With
 * `reason`, the page also carries the flow result machine-readably (data-raven="error").
 */
export function renderErrorPage(status: number, reason?: 'invalid_request' | 'server_error'): string {
  const heading = status === 404 ? 'Page not found' : status < 500 ? 'This request could not be handled' : 'Something went wrong on our side'
  // With a reason the page ends a Raven connection attempt: say that it did not connect, and how to retry.
  const next = status === 429 ? 'Wait a minute, then go back to the app and try again.' : 'Go back to the app and try again.'
  const paragraphs = reason ? ['Raven was not connected.', next.replace('try again', 'choose Connect Raven again')] : [next]
  return renderPage({
    title: heading,
    heading,
    paragraphs,
    ...(reason ? { mainAttributes: { 'data-raven': 'error', 'data-reason': reason } } : {}),
    tone: 'error',
  })
}
