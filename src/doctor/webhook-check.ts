import { randomUUID } from 'node:crypto'

import type { Config } from '../config/load-config.js'
import { SIGNATURE_HEADER, signWebhook } from '../webhooks/signature.js'
import { fail, pass, type Verdict } from './check.js'
import { describeNetworkError, request } from './http.js'

/**
 * WEBHOOK_URL answers a `ping` event, signed like every webhook (webhooks/signature.ts), with 2xx.
 * The ping names no grower (`leafUserId: null`), so a receiver can tell it from real events.
 */
export async function checkWebhookPing(webhook: NonNullable<Config['webhook']>, signal: AbortSignal): Promise<Verdict> {
  // Origin and path only: a receiver's URL may carry a token in its query.
  const where = (() => {
    const url = new URL(webhook.url)
    return `${url.origin}${url.pathname}`
  })()
  const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: 'ping', createdAt: new Date().toISOString(), leafUserId: null, data: {} })
  let reply
  try {
    reply = await request(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signWebhook(webhook.secret, body) },
      body,
      signal,
    })
  } catch (err) {
    return fail(`WEBHOOK_URL ${where}: ${describeNetworkError(err)}`)
  }
  if (reply.status >= 200 && reply.status < 300) return pass(`WEBHOOK_URL ${where} answered a signed ping with ${reply.status}`)
  if (reply.status >= 300 && reply.status < 400) {
    return fail(`WEBHOOK_URL ${where} answered a redirect (${reply.status}); webhooks do not follow redirects: set WEBHOOK_URL to the final URL`)
  }
  const hint = reply.status === 401 || reply.status === 403 ? ': does the receiver verify with the same WEBHOOK_SECRET?' : reply.status >= 500 ? ': the receiver failed; real events would be retried, then lost' : ''
  return fail(`WEBHOOK_URL ${where} answered the signed ping with ${reply.status}${hint}`)
}
