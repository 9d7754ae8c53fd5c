/*
 * The one layout of every page the service shows the grower (result, popup end, expired link,
 * unavailable, error pages, and the pages the Node server writes itself for unparseable requests), in
 * the page's language and with the host's name, logo and colour.
 */
import { translator, type MessageKey } from '../i18n/messages.js'
import { NEUTRAL_PAGE_CONTEXT, type PageContext } from './page-context.js'
import { outcomeIcon, type PageVisual } from './page-icons.js'

export type { PageContext } from './page-context.js'
export type { PageVisual } from './page-icons.js'

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=/]/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** A page's words, already in its language. */
export interface PageOptions {
  heading: string
  paragraphs: string[]
  /** The one thing the grower should do now, set apart under "What to do next". */
  nextStep: string
  visual: PageVisual
  /** Attributes for <main>, e.g. data-raven; values are escaped here. */
  mainAttributes?: Record<string, string>
  /** Scripts from this origin only: the CSP forbids inline script. */
  scripts?: string[]
}

/**
 * The one layout every grower-facing page uses: readable on a phone, light or dark, landmarks for
 * screen readers (a banner with the host's brand, the main card), no inline script or style: the
 * accent colour comes from /assets/brand.css.
 */
export function renderPage(options: PageOptions, context: PageContext = NEUTRAL_PAGE_CONTEXT): string {
  const t = translator(context.locale, context.settings.appName)
  const attributes = Object.entries(options.mainAttributes ?? {})
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('')
  const scripts = (options.scripts ?? []).map((src) => `<script type="module" src="${escapeHtml(src)}"></script>`).join('')
  const paragraphs = options.paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n      ')
  return `<!doctype html>
<html lang="${escapeHtml(context.locale)}">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <meta name="color-scheme" content="light dark">
    <title>${escapeHtml(options.heading)}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/page.css">
    <link rel="stylesheet" href="/assets/brand.css">
    ${scripts}
  </head>
  <body>
    ${brandHeader(context, t('page.logoAlt'))}
    <main class="card outcome-${options.visual}"${attributes}>
      ${outcomeIcon(options.visual)}
      <h1>${escapeHtml(options.heading)}</h1>
      ${paragraphs}
      <section class="next-step" aria-labelledby="next-step-title">
        <h2 id="next-step-title">${escapeHtml(t('page.nextStep'))}</h2>
        <p>${escapeHtml(options.nextStep)}</p>
      </section>
    </main>
  </body>
</html>
`
}

/** The host's logo and name above the card; nothing when neither is configured. */
function brandHeader(context: PageContext, logoAlt: string): string {
  const { appName, logoUrl } = context.settings
  if (!appName && !logoUrl) return ''
  // With the name written beside it the logo is decorative (alt=""), so a screen reader says it once.
  const logo = logoUrl ? `<img class="brand-logo" src="${escapeHtml(logoUrl)}" alt="${appName ? '' : escapeHtml(logoAlt)}" height="40">` : ''
  const name = appName ? `<span class="brand-name">${escapeHtml(appName)}</span>` : ''
  return `<header class="brand">${logo}${name}</header>`
}

/** Catalogue prefixes whose `.heading`, `.body` and `.next` make a whole page. */
type MessagePage = { [K in MessageKey]: K extends `${infer Prefix}.heading` ? Prefix : never }[MessageKey]

/**
 * A page that is one catalogue message (heading, body, next step) and one flow result on <main>: the
 * unavailable page, the launch's link pages, the misconfigured and spent-link pages.
 */
export function renderMessagePage(
  message: MessagePage,
  result: { visual: PageVisual; reason: 'invalid_request' | 'expired' | 'server_error' },
  context: PageContext = NEUTRAL_PAGE_CONTEXT,
): string {
  const t = translator(context.locale, context.settings.appName)
  return renderPage(
    {
      heading: t(`${message}.heading` as MessageKey),
      paragraphs: [t(`${message}.body` as MessageKey)],
      nextStep: t(`${message}.next` as MessageKey),
      visual: result.visual,
      mainAttributes: { 'data-raven': 'error', 'data-reason': result.reason },
    },
    context,
  )
}

/** Redis or Raven unreachable: nothing was changed, try again. */
export function renderUnavailablePage(context: PageContext = NEUTRAL_PAGE_CONTEXT): string {
  return renderMessagePage('unavailable', { visual: 'error', reason: 'server_error' }, context)
}

/**
 * Anything unexpected on a browser route: never a stack trace or the framework's default page. With
 * `reason`, the page also carries the flow result machine-readably (data-raven="error"). Without a
 * context (the raw server's parser errors) it is English and unbranded.
 */
export function renderErrorPage(status: number, reason?: 'invalid_request' | 'server_error', context: PageContext = NEUTRAL_PAGE_CONTEXT): string {
  const t = translator(context.locale, context.settings.appName)
  const heading = status === 404 ? t('error.notFound.heading') : status < 500 ? t('error.badRequest.heading') : t('error.server.heading')
  // With a reason the page ends a Raven connection attempt: say that it did not connect, and how to retry.
  const nextStep = status === 429 ? t('error.wait.next') : reason ? t('reason.expired.next') : t('error.next')
  return renderPage(
    {
      heading,
      paragraphs: [reason ? t('error.notConnected.body') : t('error.body')],
      nextStep,
      visual: 'error',
      ...(reason ? { mainAttributes: { 'data-raven': 'error', 'data-reason': reason } } : {}),
    },
    context,
  )
}
