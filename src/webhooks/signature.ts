import { createHmac } from 'node:crypto'

export const SIGNATURE_HEADER = 'Raven-Connect-Signature'

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under WEBHOOK_SECRET (contract). The
 * timestamp is signed with the body, so a receiver that rejects old timestamps stops replays.
 * examples/webhook-receiver.ts shows the receiver's side (the README's steps).
 */
export function signWebhook(secret: string, rawBody: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex')
  return `t=${timestampSeconds},v1=${mac}`
}
