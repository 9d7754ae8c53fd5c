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
  /** Ours holds both events, and nothing else holds either. */
  complete: boolean
}

export type RegisterResult =
  | { result: 'already_registered'; status: RegistrationStatus }
  | { result: 'registered'; webhook: LeafWebhook; replaced: LeafWebhook[] }
  | { result: 'held_by_other'; blocking: LeafWebhook[] }

export async function registrationStatus(leaf: LeafClient, publicBaseUrl: string): Promise<RegistrationStatus> {
  const url = alertsUrlOf(publicBaseUrl)
  const webhooks = await leaf.listAlertWebhooks()
  const ours = webhooks.filter((webhook) => webhook.url === url)
  const blocking = webhooks.filter((webhook) => webhook.url !== url && webhook.events.some((event) => ALERT_EVENTS.includes(event)))
  const complete = blocking.length === 0 && ALERT_EVENTS.every((event) => ours.some((webhook) => webhook.events.includes(event)))
  return { url, ours, blocking, complete }
}

/**
 * Registers `{PUBLIC_BASE_URL}/leaf/alerts` for both credential events with the secret. Idempotent:
 * a complete registration is left as it is. Another webhook holding either event is named and left
 * alone unless `replace` (Leaf allows one webhook per event, and a webhook cannot be updated).
 */
export async function registerAlertsWebhook(
  leaf: LeafClient,
  options: { publicBaseUrl: string; secret: string; replace?: boolean },
): Promise<RegisterResult> {
  const status = await registrationStatus(leaf, options.publicBaseUrl)
  if (status.complete) return { result: 'already_registered', status }
  if (status.blocking.length > 0 && !options.replace) return { result: 'held_by_other', blocking: status.blocking }
  // Ours but incomplete (an event missing), or others to replace: delete, then create once.
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
