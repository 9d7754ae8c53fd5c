import type { LeafClient, LeafWebhook } from '../leaf/client.js'
import { CREDENTIAL_ALERTS } from './alert.js'

/** The events this service registers for: the two credential alerts. */
export const ALERT_EVENTS = Object.keys(CREDENTIAL_ALERTS)
export const WEBHOOK_NAME = 'raven-connect'

export function alertsUrlOf(publicBaseUrl: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/leaf/alerts`
}

export interface RegistrationStatus {
  url: string
  /** Webhooks pointing at this service's URL. */
  ours: LeafWebhook[]
  /** Other webhooks holding one of our events: Leaf allows an event on one webhook only. */
  blocking: LeafWebhook[]
  /**
   * Ours, but Leaf shows another secret than the one asked about (LEAF_ALERTS_SECRET): Leaf would sign
   * every alert with a key the service refuses. Empty when no secret was given or Leaf hides secrets.
   */
  wrongSecret: LeafWebhook[]
  /** Ours holds both events, nothing else holds either, and none of ours has a wrong secret. */
  complete: boolean
}

export interface StatusOptions {
  /** LEAF_ALERTS_SECRET, to compare with the secret of ours where Leaf shows it. */
  secret?: string
  /** The caller's own limit (a doctor check's): aborts the read. */
  signal?: AbortSignal
}

export type RegisterResult =
  | { result: 'already_registered'; status: RegistrationStatus }
  | { result: 'registered'; webhook: LeafWebhook; replaced: LeafWebhook[] }
  | { result: 'held_by_other'; blocking: LeafWebhook[] }

/**
 * Where Leaf sends our two events, read-only. The one reading of the registration: `npm run
 * leaf-alerts -- status`, `register` and `npm run doctor` all judge it here, so they cannot disagree.
 */
export async function registrationStatus(leaf: LeafClient, publicBaseUrl: string, options: StatusOptions = {}): Promise<RegistrationStatus> {
  const url = alertsUrlOf(publicBaseUrl)
  const webhooks = await leaf.listAlertWebhooks({ expectedSecret: options.secret, signal: options.signal })
  const ours = webhooks.filter((webhook) => webhook.url === url)
  const blocking = webhooks.filter((webhook) => webhook.url !== url && webhook.events.some((event) => ALERT_EVENTS.includes(event)))
  const wrongSecret = ours.filter((webhook) => webhook.secretMatches === false)
  const complete =
    blocking.length === 0 && wrongSecret.length === 0 && ALERT_EVENTS.every((event) => ours.some((webhook) => webhook.events.includes(event)))
  return { url, ours, blocking, wrongSecret, complete }
}

/**
 * Registers `{PUBLIC_BASE_URL}/leaf/alerts` for both credential events with the secret. Idempotent:
 * a complete registration is left as it is; ours with another secret (a rotated LEAF_ALERTS_SECRET)
 * is replaced. Another webhook holding either event is named and left
 * alone unless `replace` (Leaf allows one webhook per event, and a webhook cannot be updated).
 */
export async function registerAlertsWebhook(
  leaf: LeafClient,
  options: { publicBaseUrl: string; secret: string; replace?: boolean },
): Promise<RegisterResult> {
  const status = await registrationStatus(leaf, options.publicBaseUrl, { secret: options.secret })
  if (status.complete) return { result: 'already_registered', status }
  if (status.blocking.length > 0 && !options.replace) return { result: 'held_by_other', blocking: status.blocking }
  // Ours but incomplete (an event missing, another secret), or others to replace: delete, then create once.
  const replaced = [...status.blocking, ...status.ours]
  for (const webhook of replaced) await leaf.deleteAlertWebhook(webhook.id)
  const webhook = await leaf.createAlertWebhook({ events: ALERT_EVENTS, name: WEBHOOK_NAME, secret: options.secret, url: status.url })
  return { result: 'registered', webhook, replaced: status.blocking }
}

/** Deletes the webhooks pointing at this service's URL; others are not ours to touch. */
export async function removeAlertsWebhook(leaf: LeafClient, publicBaseUrl: string): Promise<LeafWebhook[]> {
  const status = await registrationStatus(leaf, publicBaseUrl)
  for (const webhook of status.ours) await leaf.deleteAlertWebhook(webhook.id)
  return status.ours
}
