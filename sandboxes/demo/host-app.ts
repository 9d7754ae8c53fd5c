import { fileURLToPath } from 'node:url'

import express, { type Express, type NextFunction, type Request, type Response } from 'express'

import { verifyRavenConnectSignature, type RavenConnectEvent } from '../../examples/webhook-receiver.js'
import { DEMO_LOCALES, renderHostPage, renderHostErrorPage, type DemoLocale, type HostPageModel } from './host-page.js'

/*
 * The demo host app: it plays the company's web app that embeds "Connect Raven". A grower is signed
 * in (a fixed demo grower); its backend holds the API key and calls raven-connect's /v1 routes, its
 * page offers redirect mode (a form) and popup mode (the browser SDK), and shows the result in words,
 * the live connection status, the troubleshooting events and a Disconnect button.
 */

export interface DemoGrower {
  externalId: string
  name: string
  email: string
}

export interface HostAppOptions {
  /** Where the browser reaches this app, e.g. http://127.0.0.1:5173 (used for returnTo). */
  publicUrl: string
  /** raven-connect's PUBLIC_BASE_URL: this backend calls it, and the page loads the SDK from it. */
  serviceUrl: string
  /** One of raven-connect's API_KEYS. Stays in this backend; the page never sees it. */
  apiKey: string
  grower?: DemoGrower
  /** The Leaf sandbox: its break control makes a credential go bad (sandbox only, never Leaf). */
  leafSandboxUrl?: string
  /** raven-connect's WEBHOOK_SECRET: webhooks to /hooks/raven-connect are checked with it. */
  webhookSecret?: string
}

export const DEMO_GROWER: DemoGrower = { externalId: 'demo-grower', name: 'Demo Grower', email: 'grower@example.com' }

/** What the demo tells raven-connect about the host (APP_NAME, BRAND_COLOR): its pages then wear this brand. */
export const DEMO_BRAND = { appName: 'Acme Farm Records', color: '#2f6b2f' }

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url))

type ConnectionStatus = NonNullable<HostPageModel['status']> & { leafUserId: string }

export function createHostApp(options: HostAppOptions): Express {
  const grower = options.grower ?? DEMO_GROWER
  const origin = new URL(options.publicUrl).origin
  const serviceOrigin = new URL(options.serviceUrl).origin
  // The company's own mapping of its grower to a Leaf user, learned from the first connect session.
  let leafUserId: string | undefined
  // The language switch: the `locale` of the next connect sessions; unset, the grower's browser decides.
  let locale: DemoLocale | undefined
  // The last connection.broken webhook for the grower; a newer connection.created clears it.
  let lastBroken: { reason: string; createdAt: string } | undefined

  async function callService(method: string, path: string, body?: unknown): Promise<globalThis.Response> {
    return fetch(`${options.serviceUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${options.apiKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    })
  }

  async function createConnectSession(mode: 'redirect' | 'popup'): Promise<string> {
    const res = await callService('POST', '/v1/connect-sessions', {
      externalId: grower.externalId,
      name: grower.name,
      email: grower.email,
      returnTo: `${origin}/`,
      mode,
      ...(locale ? { locale } : {}),
    })
    if (res.status !== 201) throw new Error(`raven-connect answered ${res.status} to POST /v1/connect-sessions: ${await problemCode(res)}`)
    const session = (await res.json()) as { connectUrl: string; leafUserId: string }
    leafUserId = session.leafUserId
    return session.connectUrl
  }

  async function loadModel(req: Request): Promise<HostPageModel> {
    const model: HostPageModel = {
      grower,
      serviceUrl: options.serviceUrl,
      query: {
        raven: singleQuery(req, 'raven'),
        reason: singleQuery(req, 'reason'),
        popup: singleQuery(req, 'popup'),
        notice: singleQuery(req, 'notice'),
        via: singleQuery(req, 'via'),
      },
      leafUserId,
      locale,
      life: { canBreak: options.leafSandboxUrl !== undefined, ...(lastBroken && { lastBroken }) },
    }
    if (!leafUserId) return model
    const id = encodeURIComponent(leafUserId)
    try {
      const [status, events] = await Promise.all([
        callService('GET', `/v1/users/${id}/raven-connection`),
        callService('GET', `/v1/users/${id}/raven-connection/events`),
      ])
      if (status.ok) model.status = (await status.json()) as ConnectionStatus
      else model.statusError = `raven-connect answered ${status.status} (${await problemCode(status)})`
      if (events.ok) model.events = ((await events.json()) as { events: HostPageModel['events'] }).events
    } catch (err) {
      model.statusError = `raven-connect did not answer (${err instanceof Error ? err.message : String(err)})`
    }
    return model
  }

  const app = express()
  app.disable('x-powered-by')
  app.set('query parser', 'simple')
  app.use((_req, res, next) => {
    // The SDK is a module script from raven-connect; nothing inline. No form-action: the Connect
    // form's answer redirects on to raven-connect and then Raven, and Chrome checks every hop.
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'self' ${serviceOrigin}; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // Not no-referrer: with it Chrome sends `Origin: null` on form posts, and sameOrigin() needs the origin.
    res.setHeader('Referrer-Policy', 'same-origin')
    next()
  })
  app.use('/assets', express.static(PUBLIC_DIR, { index: false, maxAge: 0 }))

  app.get('/', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').type('html').send(renderHostPage(await loadModel(req)))
  })

  // State changes come only from this app's own pages: browsers send Origin on every POST.
  const sameOrigin = (req: Request, res: Response, next: NextFunction) => {
    if (req.headers.origin !== origin) {
      res.status(403).type('html').send(renderHostErrorPage('This request did not come from the demo app’s own page.'))
      return
    }
    next()
  }

  // Redirect mode: the backend creates the connect session and sends the browser to connectUrl.
  app.post('/connect', sameOrigin, async (_req, res) => {
    try {
      res.redirect(303, await createConnectSession('redirect'))
    } catch (err) {
      res.status(502).type('html').send(renderHostErrorPage(err instanceof Error ? err.message : String(err)))
    }
  })

  // Popup mode: the page's script asks for a connectUrl and hands it to connectRaven().
  app.post('/connect-session', sameOrigin, async (_req, res) => {
    try {
      res.setHeader('Cache-Control', 'no-store').json({ connectUrl: await createConnectSession('popup') })
    } catch (err) {
      res.status(502).json({ error: err instanceof Error ? err.message : String(err) })
    }
  })

  // The language switch: a form with one button per language (no script), remembered for this demo run.
  app.post('/language', sameOrigin, express.urlencoded({ extended: false, limit: '1kb' }), (req, res) => {
    const chosen: unknown = req.body?.locale
    locale = DEMO_LOCALES.find((candidate) => candidate.code === chosen)?.code
    res.redirect(303, '/')
  })

  app.post('/disconnect', sameOrigin, async (_req, res) => {
    if (!leafUserId) return void res.redirect(303, '/?notice=nothing_to_disconnect')
    const answer = await callService('DELETE', `/v1/users/${encodeURIComponent(leafUserId)}/raven-connection`).catch(() => undefined)
    res.redirect(303, answer?.status === 204 ? '/?notice=disconnected' : '/?notice=disconnect_failed')
  })

  // Sandbox only: ask the Leaf sandbox to break the grower's credential (status change + Alert).
  app.post('/break', sameOrigin, async (_req, res) => {
    if (!leafUserId || !options.leafSandboxUrl) return void res.redirect(303, '/?notice=break_failed')
    const answer = await fetch(`${options.leafSandboxUrl}/sandbox/users/${encodeURIComponent(leafUserId)}/raven-credentials/break`, {
      method: 'POST',
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined)
    res.redirect(303, answer?.ok ? '/?notice=broken' : '/?notice=break_failed')
  })

  // raven-connect's webhooks (WEBHOOK_URL): signed, checked before anything is believed.
  app.post('/hooks/raven-connect', express.text({ type: () => true, limit: '100kb' }), (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : ''
    if (!options.webhookSecret || !verifyRavenConnectSignature(raw, req.get('raven-connect-signature'), options.webhookSecret)) {
      return void res.status(401).end()
    }
    const event = JSON.parse(raw) as RavenConnectEvent
    // Webhooks arrive in no particular order (each is its own job, retried on its own schedule): an
    // event only replaces what the host knows when it is newer, by its createdAt.
    const newer = !lastBroken || Date.parse(event.createdAt) > Date.parse(lastBroken.createdAt)
    if (event.leafUserId === leafUserId && event.type === 'connection.broken' && newer) {
      lastBroken = { reason: event.data.reason ?? 'unknown', createdAt: event.createdAt }
    }
    if (event.leafUserId === leafUserId && (event.type === 'connection.created' || event.type === 'connection.deleted') && newer) lastBroken = undefined
    res.status(204).end()
  })

  app.use((_req, res) => void res.status(404).type('html').send(renderHostErrorPage('There is no such page in the demo app.')))
  return app
}

function singleQuery(req: Request, name: string): string | undefined {
  const value = req.query[name]
  return typeof value === 'string' && value.length <= 64 ? value : undefined
}

async function problemCode(res: globalThis.Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { code?: unknown } | undefined
  return typeof body?.code === 'string' ? body.code : 'no problem code'
}
