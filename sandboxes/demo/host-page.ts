import type { DemoGrower } from './host-app.js'

// The demo host app's one page and its error page. Plain server-rendered HTML: a stylesheet and one
// module script from /assets, nothing inline (the host app sends a strict CSP too).

export interface HostEvent {
  id: string
  createdDate: string
  statusCode: number | string | null
  body: unknown
  headers: unknown
}

/** The languages of raven-connect's pages (contract: `locale` on POST /v1/connect-sessions), named in themselves. */
export const DEMO_LOCALES = [
  { code: 'en', label: 'English' },
  { code: 'pt-BR', label: 'Português (Brasil)' },
  { code: 'es', label: 'Español' },
  { code: 'fr', label: 'Français' },
] as const

export type DemoLocale = (typeof DEMO_LOCALES)[number]['code']

export interface HostPageModel {
  grower: DemoGrower
  serviceUrl: string
  query: { raven?: string; reason?: string; popup?: string; notice?: string; via?: string }
  leafUserId: string | undefined
  /** The `locale` the next connect sessions are created with; undefined: the browser's languages decide. */
  locale?: DemoLocale | undefined
  status?:
    | {
        connected: true
        pending: false
        status: string
        credentialId: string
        createdTime: string
        scopes: string[]
        health?: string
        healthChangedAt?: string | null
      }
    | { connected: false; pending: boolean }
  statusError?: string
  events?: HostEvent[]
  /** The life of a connection: whether the sandbox's break control is offered, and the last broken webhook. */
  life?: { canBreak: boolean; lastBroken?: { reason: string; createdAt: string } }
}

type Tone = 'success' | 'error' | 'info'
interface Banner {
  tone: Tone
  heading: string
  text: string
  code?: string
}

/** The contract's reasons, in words a grower understands, with what to do next. */
const REASON_TEXT: Record<string, string> = {
  access_denied: 'You declined access at Raven, so nothing was shared. Choose Connect Raven to try again.',
  raven_error: 'Raven reported a problem while you were signing in. Try again in a few minutes.',
  expired: 'The connection attempt expired: it took longer than 15 minutes, or the browser did not keep the cookie. Try again.',
  invalid_request: 'The connection link was already used or was changed on the way. Try again.',
  token_exchange_failed: 'Raven did not confirm the connection. Try again.',
  no_refresh_token: 'Raven did not grant ongoing (offline) access, which syncing needs. Try again and allow all requested access.',
  leaf_rejected: 'Leaf refused to store the connection. Contact support and mention “leaf_rejected”.',
  server_error: 'Something went wrong in raven-connect. Try again in a few minutes.',
}

function resultBanner(query: HostPageModel['query']): Banner | undefined {
  const via = query.via === 'popup' ? ' (popup)' : ''
  if (query.raven === 'connected') {
    return { tone: 'success', heading: 'Connected', text: `Your Raven account is connected${via}. Acme can now sync your Raven data.`, code: 'raven=connected' }
  }
  if (query.raven === 'pending') {
    return { tone: 'info', heading: 'Almost connected', text: 'Raven accepted the connection and it is being saved. The status below updates by itself.', code: 'raven=pending' }
  }
  if (query.raven === 'error') {
    const reason = query.reason ?? 'unknown'
    const text = REASON_TEXT[reason] ?? 'The connection failed for a reason this app does not know. Try again.'
    return { tone: 'error', heading: reason === 'access_denied' ? 'Not connected: you declined' : 'Not connected', text, code: `raven=error&reason=${reason}` }
  }
  if (query.popup === 'popup_blocked') {
    return { tone: 'error', heading: 'The popup was blocked', text: 'Your browser blocked the Raven window. Allow popups for this site, or use Connect Raven (same window).', code: 'popup_blocked' }
  }
  if (query.popup === 'popup_closed') {
    return { tone: 'info', heading: 'Popup closed', text: 'The Raven window was closed before the connection finished. Nothing changed.', code: 'popup_closed' }
  }
  if (query.popup) return { tone: 'error', heading: 'The popup could not start', text: 'Try again, or use Connect Raven (same window).' }
  if (query.notice === 'disconnected') {
    return { tone: 'info', heading: 'Disconnected', text: 'Raven is no longer connected. Leaf removed the stored credential.' }
  }
  if (query.notice === 'disconnect_failed') return { tone: 'error', heading: 'Disconnect failed', text: 'raven-connect could not remove the connection. Try again.' }
  if (query.notice === 'broken') {
    return { tone: 'info', heading: 'Connection broken (sandbox)', text: 'The Leaf sandbox marked the credential as no longer working and sent its alert, as Leaf does when a grower’s Raven access ends.' }
  }
  if (query.notice === 'break_failed') return { tone: 'error', heading: 'Could not break the connection', text: 'The Leaf sandbox did not take the request.' }
  if (query.notice === 'nothing_to_disconnect') return { tone: 'info', heading: 'Nothing to disconnect', text: 'Raven was never connected in this demo run.' }
  return undefined
}

function statusBlock(model: HostPageModel): string {
  if (model.statusError) return `<p id="connection-status" class="status status-unknown">Status unavailable</p><p class="hint">${esc(model.statusError)}</p>`
  const status = model.status
  if (!model.leafUserId || !status) return '<p id="connection-status" class="status status-off">Not connected</p>'
  if (!status.connected) {
    return status.pending
      ? '<p id="connection-status" class="status status-pending">Connecting…</p><p class="hint">Raven accepted the connection; it is being saved at Leaf. This page refreshes every few seconds.</p>'
      : '<p id="connection-status" class="status status-off">Not connected</p>'
  }
  const scopes = status.scopes.length > 0 ? status.scopes.join(', ') : 'none reported'
  return `<p id="connection-status" class="status status-on">Connected</p>
        <dl class="facts">
          <div><dt>Leaf status</dt><dd>${esc(status.status)}</dd></div>
          <div><dt>Connected since</dt><dd>${esc(formatTime(status.createdTime))}</dd></div>
          <div><dt>Scopes</dt><dd>${esc(scopes)}</dd></div>
          <div><dt>Credential</dt><dd><code>${esc(status.credentialId)}</code></dd></div>
        </dl>`
}

/** One button per language; the pressed one is what the next connect session asks raven-connect to speak. */
function languageSwitch(current: DemoLocale | undefined): string {
  const button = (code: string, label: string, lang?: string) =>
    `<button type="submit" name="locale" value="${esc(code)}" class="chip" aria-pressed="${current === code || (!current && code === '') ? 'true' : 'false'}"${lang ? ` lang="${esc(lang)}"` : ''}>${esc(label)}</button>`
  return `<form method="post" action="/language" class="language-switch" aria-labelledby="language-heading">
          <p id="language-heading" class="hint">Language of raven-connect’s pages for the next connection:</p>
          <div class="chips">
            ${button('', 'Browser’s language')}
            ${DEMO_LOCALES.map(({ code, label }) => button(code, label, code)).join('\n            ')}
          </div>
        </form>`
}

function eventsBlock(model: HostPageModel): string {
  const events = model.events ?? []
  if (events.length === 0) return '<p class="hint">No events yet. Leaf records one each time it uses the Raven credential.</p>'
  const rows = events
    .slice(0, 20)
    .map((event) => {
      const body = typeof event.body === 'string' ? event.body : JSON.stringify(event.body)
      const short = body.length > 160 ? `${body.slice(0, 160)}…` : body
      return `<tr><td>${esc(formatTime(event.createdDate))}</td><td>${esc(String(event.statusCode ?? '—'))}</td><td><code>${esc(short)}</code></td></tr>`
    })
    .join('\n            ')
  return `<div class="table-wrap"><table>
          <thead><tr><th scope="col">When</th><th scope="col">Status</th><th scope="col">Details (secrets redacted)</th></tr></thead>
          <tbody>
            ${rows}
          </tbody>
        </table></div>`
}

/** What each health means to the grower, and what to do. */
const HEALTH_TEXT: Record<string, string> = {
  unauthenticated: 'Raven no longer accepts this connection (access was revoked, or it went unused too long). Reconnect Raven to keep your data syncing.',
  limited_permission: 'Raven now grants this connection fewer permissions than syncing needs. Reconnect Raven and allow all requested access.',
}

/**
 * The life of a connection: after it was made, Leaf's Alerts may say it broke. The host learns it from
 * the `connection.broken` webhook and from `health` in the status, and asks the grower to reconnect.
 */
function lifeSection(model: HostPageModel): string {
  const status = model.status
  if (status?.connected !== true) return ''
  const health = status.health ?? 'ok'
  const webhook = model.life?.lastBroken
    ? `<p class="hint" id="broken-webhook">Webhook received: <code>connection.broken</code> (${esc(model.life.lastBroken.reason)}) at ${esc(formatTime(model.life.lastBroken.createdAt))}.</p>`
    : ''
  if (health !== 'ok') {
    return `<section id="reconnect" class="banner tone-error" role="alert" data-health="${esc(health)}">
        <h2>Raven needs you to reconnect</h2>
        <p>${esc(HEALTH_TEXT[health] ?? 'This connection stopped working. Reconnect Raven.')}</p>
        <p class="code">health=${esc(health)}${status.healthChangedAt ? ` since ${esc(formatTime(status.healthChangedAt))}` : ''}</p>
        ${webhook}
        <form method="post" action="/connect"><button type="submit" class="primary">Reconnect Raven</button></form>
      </section>`
  }
  const breakControl = model.life?.canBreak
    ? `<form method="post" action="/break"><button type="submit" class="danger">Break this connection</button></form>
        <p class="hint">Sandbox only: makes the Leaf sandbox mark the credential as failing and send its Alert, as Leaf does when a grower revokes access at Raven.</p>`
    : ''
  return `<section id="connection-life" class="panel" aria-labelledby="life-heading" data-health="ok">
        <h2 id="life-heading">Connection health</h2>
        <p class="status status-on">Healthy</p>
        ${breakControl}
      </section>`
}

export function renderHostPage(model: HostPageModel): string {
  const banner = resultBanner(model.query)
  const connected = model.status?.connected === true
  const pending = model.status?.connected === false && model.status.pending
  const bannerHtml = banner
    ? `<section id="result" class="banner tone-${banner.tone}" role="status" aria-live="polite">
        <h2>${esc(banner.heading)}</h2>
        <p>${esc(banner.text)}</p>${banner.code ? `\n        <p class="code">${esc(banner.code)}</p>` : ''}
      </section>`
    : ''
  const disconnect = connected
    ? `<form method="post" action="/disconnect"><button type="submit" class="danger">Disconnect</button></form>`
    : ''
  return layout(
    'Integrations · Acme Farm Records',
    `${bannerHtml}
      ${lifeSection(model)}
      <section class="panel" aria-labelledby="raven-heading">
        <h2 id="raven-heading">Raven</h2>
        <p class="lead">Connect your Raven account so field operations sync into Acme automatically.</p>
        ${statusBlock(model)}
        <div class="actions">
          <form method="post" action="/connect"><button type="submit" class="primary">${connected ? 'Reconnect Raven' : 'Connect Raven'}</button></form>
          <button type="button" id="connect-popup" class="secondary" data-sdk="${esc(model.serviceUrl)}/sdk/raven-connect.js" disabled>Connect Raven in a popup</button>
          ${disconnect}
        </div>
        <p id="popup-note" class="hint" role="status" hidden></p>
        ${languageSwitch(model.locale)}
      </section>
      <section class="panel" aria-labelledby="events-heading">
        <h2 id="events-heading">Troubleshooting</h2>
        <p class="lead">What Leaf recorded for this connection, as raven-connect reports it.</p>
        ${eventsBlock(model)}
      </section>
      <p class="footnote">Demo host app: it plays your company’s web app. Its backend holds the API key and calls raven-connect at <code>${esc(model.serviceUrl)}</code> (<code>POST /v1/connect-sessions</code>, <code>GET /v1/users/{id}/raven-connection</code>, <code>…/events</code>, <code>DELETE …</code>); the popup button uses the browser SDK.</p>`,
    model.grower,
    pending ? '<meta http-equiv="refresh" content="3">' : '',
  )
}

export function renderHostErrorPage(message: string): string {
  return layout(
    'Something went wrong · Acme Farm Records',
    `<section class="banner tone-error" role="alert">
        <h2>Something went wrong</h2>
        <p>${esc(message)}</p>
        <p><a href="/">Back to Integrations</a></p>
      </section>`,
  )
}

function layout(title: string, content: string, grower?: DemoGrower, extraHead = ''): string {
  const user = grower ? `<span class="user">Signed in as <strong>${esc(grower.name)}</strong> · ${esc(grower.email)}</span>` : ''
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${esc(title)}</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/assets/host.css">
    <script type="module" src="/assets/host.js"></script>
    ${extraHead}
  </head>
  <body>
    <header class="topbar"><a class="brand" href="/">Acme Farm Records</a>${user}</header>
    <main>
      <h1>Integrations</h1>
      ${content}
    </main>
  </body>
</html>
`
}

function formatTime(value: string): string {
  const time = Date.parse(value)
  return Number.isNaN(time) ? value : new Date(time).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
