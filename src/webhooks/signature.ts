import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'Raven-Connect-Signature'

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under WEBHOOK_SECRET (contract). The
 * timestamp is signed with the body, so a receiver that rejects old timestamps stops replays.
 */
export function signWebhook(secret: string, rawBody: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`).digest('hex')
  return `t=${timestampSeconds},v1=${mac}`
}

/**
 * What a receiver does (the README and examples/webhook-receiver.ts show the same steps): parse the
 * header, recompute the HMAC over the raw bytes, compare in constant time, check the timestamp.
 */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string,
  header: string | undefined,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!header) return false
  const parts = new Map<string, string[]>()
  for (const item of header.split(',')) {
    const [name, value] = item.trim().split('=', 2)
    if (name && value) parts.set(name, [...(parts.get(name) ?? []), value])
  }
  const timestamp = Number(parts.get('t')?.[0])
  if (!Number.isInteger(timestamp)) return false
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'), 'utf8')
  return (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'utf8')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}
