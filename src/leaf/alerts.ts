import { createHash, timingSafeEqual } from 'node:crypto'

import { z } from 'zod'

import type { LeafReadOptions } from './access.js'
import type { LeafTransport } from './transport.js'

/*
 * Leaf's Alerts API (contract, "Leaf, as the service uses it"): webhooks and the alerts Leaf could not
 * deliver. Same transport as every other Leaf call: bearer token, timeouts, retries, no redirects.
 */

/** A registered webhook, without its secret (the schema drops it: Leaf answers it back). */
export const leafWebhookSchema = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  events: z.array(z.string()).nullish().transform((events) => events ?? []),
  name: z.string().nullish().transform((name) => name ?? null),
  url: z.string(),
})
export type LeafWebhook = z.output<typeof leafWebhookSchema> & {
  /**
   * Only in a list asked for with `expectedSecret`, and only when Leaf shows the webhook's secret:
   * whether it equals `expectedSecret`. The secret itself never leaves this module.
   */
  secretMatches?: boolean
}

/** The list as Leaf answers it, secrets included: read here to be compared, then dropped. */
const webhookListSchema = z.array(leafWebhookSchema.extend({ secret: z.string().nullish() }))

export interface ListWebhooksOptions extends LeafReadOptions {
  /** The secret each webhook should carry (LEAF_ALERTS_SECRET), compared in constant time. */
  expectedSecret?: string
}

/** One undelivered call; `requestBody` is the alert's JSON as a string. */
const failedCallSchema = z.object({
  createdAt: z.string().nullish(),
  url: z.string().nullish(),
  status: z.union([z.number(), z.string()]).nullish(),
  requestBody: z.string().nullish(),
})
const failedCallsSchema = z.object({ items: z.array(failedCallSchema).nullish().transform((items) => items ?? []) })
export type LeafFailedCall = z.output<typeof failedCallSchema>

export interface NewLeafWebhook {
  events: string[]
  name: string
  url: string
  secret: string
}

export async function listWebhooks(transport: LeafTransport, options: ListWebhooksOptions = {}): Promise<LeafWebhook[]> {
  const reply = await transport.call({ api: 'alerts', operation: 'list_webhooks', method: 'GET', path: '/webhooks', signal: options.signal })
  return transport.parse(webhookListSchema, reply, 'list_webhooks').map(({ secret, ...webhook }) => {
    if (options.expectedSecret === undefined || typeof secret !== 'string') return webhook
    return { ...webhook, secretMatches: sameSecret(secret, options.expectedSecret) }
  })
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

/** Not retried when ambiguous: a second create of the same events would answer `eventRegisteredTwice`. */
export async function createWebhook(transport: LeafTransport, webhook: NewLeafWebhook): Promise<LeafWebhook> {
  const reply = await transport.call({
    api: 'alerts',
    operation: 'create_webhook',
    method: 'POST',
    path: '/webhooks',
    body: webhook,
    retryAmbiguous: false,
  })
  return transport.parse(leafWebhookSchema, reply, 'create_webhook')
}

/** Resolves when it was already gone (404). */
export async function deleteWebhook(transport: LeafTransport, id: string): Promise<void> {
  await transport.call({
    api: 'alerts',
    operation: 'delete_webhook',
    method: 'DELETE',
    path: `/webhooks/${encodeURIComponent(id)}`,
    pass: [404],
  })
}

export async function listFailedCalls(transport: LeafTransport): Promise<LeafFailedCall[]> {
  const reply = await transport.call({ api: 'alerts', operation: 'failed_calls', method: 'GET', path: '/webhooks/failed-calls' })
  return transport.parse(failedCallsSchema, reply, 'failed_calls').items
}
