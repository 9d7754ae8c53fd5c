import { signLeafBody } from '../../../sandboxes/leaf/alerts.js'
import { registerAlertsWebhook } from '../../../src/leaf-alerts/registration.js'
import type { WebhookReceiver } from '../../../examples/webhook-receiver.js'
import type { TestSystem } from '../system.js'
import { flowToCallback } from './flow.js'
import { outcomeOf } from './outcome.js'
import { waitFor } from './wait.js'

/** Registers the system's /leaf/alerts at the Leaf sandbox, as `npm run leaf-alerts -- register` does. */
export async function registerLeafAlerts(system: TestSystem): Promise<void> {
  await registerAlertsWebhook(system.leafClient, { publicBaseUrl: system.url, secret: system.secrets.leafAlertsSecret })
  // Leaf's confirmation POST follows the registration; wait for it so it does not land mid-test.
  await waitFor('the registration confirmation', () => system.leaf.alerts.deliveries.some((delivery) => delivery.body.includes('confirmation')))
}

/** POSTs a body to /leaf/alerts signed with `secret` (default the system's), or with `signature` as given. */
export function postLeafAlert(
  system: Pick<TestSystem, 'url' | 'secrets'>,
  body: unknown,
  options: { secret?: string; signature?: string | null } = {},
): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  const signature = options.signature === undefined ? signLeafBody(raw, options.secret ?? system.secrets.leafAlertsSecret) : options.signature
  return fetch(`${system.url}/leaf/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature !== null && { 'x-leaf-signature': signature }) },
    body: raw,
  })
}

/** A grower connected through the real flow; returns the Leaf user and the credential Leaf holds. */
export async function connectedGrower(system: TestSystem, leafUserId = system.newLeafUser()): Promise<{ leafUserId: string; credentialId: string }> {
  const flow = await flowToCallback(system, { leafUserId })
  const outcome = outcomeOf(await flow.browser.get(flow.callbackUrl.href))
  if (outcome.raven !== 'connected') throw new Error(`flow ended ${outcome.raven} ${outcome.reason ?? ''}`)
  const credential = system.leaf.state.credentials.get(leafUserId)
  if (!credential) throw new Error('Leaf holds no credential after a connected flow')
  return { leafUserId, credentialId: credential.id }
}

/** A credential alert as Leaf sends it (contract: no leafUserId in it). */
export function credentialAlert(fields: {
  credentialId: string
  type?: string
  provider?: string
  status?: string
  timestamp?: string | number
}): Record<string, unknown> {
  return {
    credential: 'raven-connect-test',
    provider: fields.provider ?? 'Raven',
    credentialId: fields.credentialId,
    message: 'The credential could not authenticate at the provider.',
    status: fields.status ?? 'UNAUTHENTICATED',
    type: fields.type ?? 'credentialsUnauthenticated',
    timestamp: fields.timestamp ?? new Date().toISOString(),
  }
}

/** GET /v1/users/{id}/raven-connection with the API key. */
export async function connectionOf(system: TestSystem, leafUserId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${system.url}/v1/users/${leafUserId}/raven-connection`, { headers: { Authorization: `Bearer ${system.secrets.apiKey}` } })
  if (res.status !== 200) throw new Error(`raven-connection: ${res.status}`)
  return (await res.json()) as Record<string, unknown>
}

/** The receiver's `connection.broken` events for a grower, and every 2xx POST of them (duplicates included, unlike `events`). */
export function brokenWebhooks(receiver: WebhookReceiver, leafUserId: string) {
  const events = receiver.events.filter((event) => event.leafUserId === leafUserId && event.type === 'connection.broken')
  const ids = new Set(events.map((event) => event.id))
  const deliveries = receiver.deliveries.filter((delivery) => delivery.id !== undefined && ids.has(delivery.id) && delivery.status < 300)
  return { events, deliveries }
}
