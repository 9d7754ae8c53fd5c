/**
 * Waiting, time limits and retry spacing: the one copy every module uses (Leaf calls, the delivery
 * outbox, webhooks, the job queue, readiness checks).
 */

/** Resolves after `ms`. Unref'd: a pending sleep never keeps a shutting-down process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/** Rejects with `Error("<message> within <ms> ms")` when `promise` has not settled in time. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Waits for `promise` at most `ms`; says which came first and never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
    timer.unref()
  })
  const done = promise.then(
    () => 'done' as const,
    () => 'done' as const,
  )
  const result = await Promise.race([done, timeout])
  clearTimeout(timer)
  return result
}

/** Exponential backoff bounds: the ceiling of wait n is min(capMs, baseMs * 2^(n-1)). */
export interface Backoff {
  baseMs: number
  capMs: number
}

/** How often to try and how long to wait between tries (Leaf calls, inline delivery, queued jobs). */
export interface RetryPolicy extends Backoff {
  /** Total tries, the first included. */
  attempts: number
}

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait after failed
 * attempt n is a random time in [0, min(capMs, baseMs * 2^(n-1))], so many instances retrying after
 * the same outage spread out instead of arriving together.
 */
export function fullJitterMs(backoff: Backoff, failedAttempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, failedAttempt - 1))
  return Math.floor(random() * ceiling)
}

/** The wait before the next try: full jitter, never less than the upstream's Retry-After, capped. */
export function nextRetryDelayMs(backoff: Backoff, failedAttempt: number, retryAfterMs: number | undefined): number {
  const jittered = fullJitterMs(backoff, failedAttempt)
  if (retryAfterMs === undefined) return jittered
  return Math.min(backoff.capMs, Math.max(jittered, retryAfterMs))
}

/**
 * RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date. Returns milliseconds to wait, or
 * undefined when absent or unreadable. Capping is the caller's.
 */
export function parseRetryAfterMs(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** An error's `retryAfterMs` (LeafError, WebhookRetryableError carry one), when it is a number. */
export function retryAfterOf(err: unknown): number | undefined {
  const value = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
