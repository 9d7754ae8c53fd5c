/**
 * Retry schedules of the durable jobs. Documented in the README ("Reliability"); change both together.
 *
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait before retry n is a
 * random time in [0, min(capMs, baseMs * 2^(n-1))], so many instances retrying after the same outage
 * spread out instead of arriving together. A `Retry-After` from the upstream is a floor, capped too.
 */
export interface RetrySchedule {
  /** Total tries of a job, the first included. */
  attempts: number
  baseMs: number
  capMs: number
}

/**
 * Credential delivery after the inline attempts: 30 tries, ceilings 5 s, 10 s, 20 s … 1 h. The last
 * try comes at most about 21 hours after the callback (about half that on average), well inside the
 * 15 days a Raven refresh token lives unused.
 */
export const DELIVERY_SCHEDULE: RetrySchedule = { attempts: 30, baseMs: 5_000, capMs: 60 * 60_000 }

/** Webhooks: 15 tries, ceilings 5 s, 10 s, 20 s … 1 h: at most about 5.4 hours. */
export const WEBHOOK_SCHEDULE: RetrySchedule = { attempts: 15, baseMs: 5_000, capMs: 60 * 60_000 }

/** The inline phase in the callback: short waits, because a grower's browser is waiting. */
export const INLINE_SCHEDULE: RetrySchedule = { attempts: 4, baseMs: 250, capMs: 1_500 }

export function fullJitterDelayMs(schedule: RetrySchedule, failedAttempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(schedule.capMs, schedule.baseMs * 2 ** Math.max(0, failedAttempt - 1))
  return Math.floor(random() * ceiling)
}

/** The wait before the next try: full jitter, but never less than the upstream's Retry-After (capped). */
export function nextDelayMs(schedule: RetrySchedule, failedAttempt: number, retryAfterMs: number | undefined): number {
  const jittered = fullJitterDelayMs(schedule, failedAttempt)
  if (retryAfterMs === undefined) return jittered
  return Math.min(schedule.capMs, Math.max(jittered, retryAfterMs))
}
