import { createHmac, timingSafeEqual } from 'node:crypto'

/** Leaf's `X-Leaf-Signature`: the base64 of HMAC-SHA256 of the raw body under the webhook's secret. */
export function leafSignature(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64')
}

/**
 * Checks a signature over the raw bytes in constant time. Compared as decoded digests, so a header of
 * another length fails without a length-dependent early exit on the secret's output.
 */
export function isValidLeafSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined || header.length === 0 || header.length > 200) return false
  const expected = createHmac('sha256', secret).update(rawBody).digest()
  const given = Buffer.from(header.trim(), 'base64')
  if (given.length !== expected.length) return false
  return timingSafeEqual(given, expected)
}
