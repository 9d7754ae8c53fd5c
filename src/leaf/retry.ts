/** Retry policy for calls to Leaf: exponential backoff with full jitter, Retry-After honoured. */
export interface RetryPolicy {
  /** Total tries per call, the first included. */
  attempts: number
  baseDelayMs: number
  /** Upper bound of one wait, Retry-After included. */
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2000 }

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a random wait in
 * [0, min(max, base * 2^(n-1))], so many instances retrying after the same outage spread out.
 */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1))
  return Math.floor(random() * ceiling)
}

/**
 * RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date. Returns milliseconds to wait, or
 * undefined when absent or unreadable. Capping is the caller's: a server asking for minutes gets
 * `maxDelayMs`, because a grower's browser is waiting on the other end.
 */
export function parseRetryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/*
 * Connection errors that prove the request never reached Leaf, so a failed create is not ambiguous.
 * Anything else (a reset, a closed socket, a timeout) may have happened after Leaf got the request.
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

export function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err
  for (let depth = 0; depth < 4 && isErrorLike(current); depth += 1) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

export function wasNeverSent(err: unknown): boolean {
  const code = networkErrorCode(err)
  return code !== undefined && NOT_SENT_CODES.has(code)
}

export function isTimeout(err: unknown): boolean {
  return isErrorLike(err) && (err.name === 'TimeoutError' || err.name === 'AbortError')
}
