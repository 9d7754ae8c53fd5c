import { createHmac, randomUUID } from 'node:crypto'

import { Router, type Response } from 'express'

import { leafTime, type LeafSandboxState } from './store.js'

export const ALERTS_BASE = '/services/alerts/api/alerts'

/** Leaf's documented retry schedule of an undelivered alert: 1, 30, 60 and 240 minutes later. */
export const LEAF_ALERT_RETRY_DELAYS_MS = [1, 30, 60, 240].map((minutes) => minutes * 60_000)

export const CONFIRMATION_BODY = { message: 'confirmation of webhook upon registration' }

export interface SandboxWebhook {
  id: string
  events: string[]
  name: string
  secret: string
  url: string
}

/** One POST the sandbox made to a webhook URL, for assertions (no secret: the signature only). */
export interface AlertDelivery {
  url: string
  body: string
  signature: string
  /** HTTP status, or null for a network error or timeout. */
  status: number | null
  attempt: number
}

export interface FailedCall {
  apiOwner: string
  createdAt: string
  url: string
  status?: number
  response?: string
  connectionError?: string
  requestBody: string
}

export type CredentialAlertType = 'credentialsUnauthenticated' | 'credentialsLimitedPermission'

export interface SandboxAlertOptions {
  /** Waits before each retry of an undelivered alert. Default Leaf's 1/30/60/240 minutes; tests scale it down. */
  retryDelaysMs?: number[]
  /** Per POST to a webhook. Default 5000. */
  timeoutMs?: number
}

/** Leaf's signature: base64 HMAC-SHA256 of the raw body under the webhook's secret. */
export function signLeafBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64')
}

/**
 * Leaf Alerts as Leaf documents them: webhooks (one per event; a second registration of an event is
 * 400 `eventRegisteredTwice`; no update), the confirmation POST right after registration, signed
 * alerts, retries of undelivered ones, and the failed-calls list. `breakCredential` is what Leaf's
 * background check does when a grower's token dies: the credential's status changes and an alert goes out.
 */
export class LeafAlerts {
  readonly webhooks = new Map<string, SandboxWebhook>()
  readonly deliveries: AlertDelivery[] = []
  readonly failedCalls: FailedCall[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly retryDelaysMs: number[]
  private readonly timeoutMs: number

  constructor(
    private readonly state: LeafSandboxState,
    private readonly apiOwner: string,
    options: SandboxAlertOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? LEAF_ALERT_RETRY_DELAYS_MS
    this.timeoutMs = options.timeoutMs ?? 5000
  }

  /** The webhook holding an event, if any. */
  webhookFor(event: string): SandboxWebhook | undefined {
    return [...this.webhooks.values()].find((webhook) => webhook.events.includes(event))
  }

  /**
   * Makes a grower's Raven credential go bad, as Leaf's background check would: new status, then the
   * alert to the webhook holding the event. Returns the alert body as sent.
   */
  async breakCredential(
    leafUserId: string,
    options: { type?: CredentialAlertType; status?: string; provider?: string; timestampMs?: number } = {},
  ): Promise<Record<string, unknown>> {
    const credential = this.state.credentials.get(leafUserId)
    if (credential === undefined) throw new Error(`no credential for ${leafUserId}`)
    const type = options.type ?? 'credentialsUnauthenticated'
    const status = options.status ?? (type === 'credentialsUnauthenticated' ? 'UNAUTHENTICATED' : 'LIMITED_PERMISSION')
    credential.status = status
    const alert = {
      credential: credential.clientId,
      provider: options.provider ?? 'Raven',
      credentialId: credential.id,
      message: type === 'credentialsUnauthenticated' ? 'The credential could not authenticate at the provider.' : 'The credential lacks permissions.',
      status,
      type,
      timestamp: leafTime(options.timestampMs ?? Date.now()),
    }
    await this.send(alert)
    return alert
  }

  /** Sends any alert body (a replay, a late one, another provider's) to the webhook holding its type. */
  async send(alert: Record<string, unknown>): Promise<AlertDelivery | undefined> {
    const webhook = this.webhookFor(String(alert.type))
    if (webhook === undefined) return undefined
    return this.deliver(webhook, JSON.stringify(alert), 1)
  }

  /** One signed POST; an undelivered alert becomes a failed call and is retried on the schedule. */
  async deliver(webhook: SandboxWebhook, body: string, attempt: number): Promise<AlertDelivery> {
    const signature = signLeafBody(body, webhook.secret)
    const delivery: AlertDelivery = { url: webhook.url, body, signature, status: null, attempt }
    let responseText = ''
    let connectionError: string | undefined
    try {
      const res = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-leaf-signature': signature },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      delivery.status = res.status
      responseText = (await res.text()).slice(0, 500)
    } catch (err) {
      connectionError = err instanceof Error ? err.message : 'connection error'
    }
    this.deliveries.push(delivery)
    const delivered = delivery.status !== null && delivery.status >= 200 && delivery.status < 300
    if (!delivered && body !== JSON.stringify(CONFIRMATION_BODY)) {
      this.failedCalls.push({
        apiOwner: this.apiOwner,
        createdAt: leafTime(),
        url: webhook.url,
        ...(delivery.status !== null && { status: delivery.status, response: responseText }),
        ...(connectionError !== undefined && { connectionError }),
        requestBody: body,
      })
      const delay = this.retryDelaysMs[attempt - 1]
      if (delay !== undefined) this.later(delay, () => void this.deliver(webhook, body, attempt + 1))
    }
    return delivery
  }

  /** The Alerts API routes (mounted behind the sandbox's bearer-token check). */
  routes(): Router {
    const router = Router()
    router.get('/webhooks', (_req, res) => {
      res.json([...this.webhooks.values()])
    })
    router.get('/webhooks/failed-calls', (_req, res) => {
      res.json({ items: this.failedCalls })
    })
    router.post('/webhooks', (req, res) => {
      const body = req.body as Record<string, unknown> | undefined
      const events = body?.events
      const fields = ['name', 'secret', 'url'] as const
      const bad = fields.filter((key) => typeof body?.[key] !== 'string' || body[key] === '')
      if (!Array.isArray(events) || events.length === 0 || !events.every((event) => typeof event === 'string')) bad.push('events' as never)
      if (bad.length > 0) return alertProblem(res, 400, 'Bad Request', `invalid: ${bad.join(', ')}`)
      if ((events as string[]).some((event) => this.webhookFor(event) !== undefined)) {
        return alertProblem(res, 400, 'eventRegisteredTwice', 'An event can be registered to one webhook only.')
      }
      const webhook: SandboxWebhook = {
        id: randomUUID(),
        events: [...(events as string[])],
        name: String(body?.name),
        secret: String(body?.secret),
        url: String(body?.url),
      }
      this.webhooks.set(webhook.id, webhook)
      res.status(201).json(webhook)
      // Right after registration, Leaf tells the URL (contract: the confirmation POST).
      this.later(0, () => void this.deliver(webhook, JSON.stringify(CONFIRMATION_BODY), 1))
    })
    router.delete('/webhooks/:id', (req, res) => {
      if (!this.webhooks.delete(req.params.id)) return alertProblem(res, 404, 'Not Found', 'webhook not found')
      res.status(204).end()
    })
    return router
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, ms)
    this.timers.add(timer)
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  reset(): void {
    this.close()
    this.webhooks.clear()
    this.deliveries.length = 0
    this.failedCalls.length = 0
  }
}

function alertProblem(res: Response, status: number, title: string, detail: string): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail }))
}
