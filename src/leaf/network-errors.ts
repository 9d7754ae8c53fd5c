/*
 * What a failed fetch to Leaf tells us about whether Leaf got the request. Connection errors that
 * prove it never left make a failed create unambiguous; anything else (a reset, a closed socket, a
 * timeout) may have happened after Leaf got it.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
])

/*
 * Duck-typed rather than `instanceof Error`: fetch's errors (undici TypeError, DOMException) can come
 * from another realm (Jest's vm contexts, worker threads), where instanceof is false.
 */
function isErrorLike(value: unknown): value is { name?: unknown; code?: unknown; cause?: unknown } {
  return value !== null && typeof value === 'object'
}

/** The first `code` along the error's `cause` chain (undici wraps the socket error). */
function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err
  for (let depth = 0; depth < 4 && isErrorLike(current); depth += 1) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** True when the connection failed before the request could reach Leaf. */
export function wasNeverSent(err: unknown): boolean {
  const code = networkErrorCode(err)
  return code !== undefined && NOT_SENT_CODES.has(code)
}

/** True for the abort of `AbortSignal.timeout` (or any abort): no answer in time. */
export function isTimeout(err: unknown): boolean {
  return isErrorLike(err) && (err.name === 'TimeoutError' || err.name === 'AbortError')
}
