import type { RetryPolicy } from '../infra/async.js'

/**
 * Retry schedules of the durable jobs. Documented in the README ("Reliability"); change both together.
 * Waits are full jitter within the schedule's ceilings (infra/async.ts `nextRetryDelayMs`); an
 * upstream's `Retry-After` is a floor, capped too.
 */

/**
 * Credential delivery after the inline attempts: 30 tries, ceilings 5 s, 10 s, 20 s … 1 h. The last
 * try comes at most about 21 hours after the callback (about half that on average), well inside the
 * 15 days a Raven refresh token lives unused.
 */
export const DELIVERY_SCHEDULE: RetryPolicy = { attempts: 30, baseMs: 5_000, capMs: 60 * 60_000 }

/** Webhooks: 15 tries, ceilings 5 s, 10 s, 20 s … 1 h: at most about 5.4 hours. */
export const WEBHOOK_SCHEDULE: RetryPolicy = { attempts: 15, baseMs: 5_000, capMs: 60 * 60_000 }

/**
 * A Leaf alert for a credential not registered yet (it can arrive while its delivery is finishing):
 * 10 tries, ceilings 2 s, 4 s … 10 min, so about half an hour at most before it counts as unknown.
 */
export const EARLY_ALERT_SCHEDULE: RetryPolicy = { attempts: 10, baseMs: 2_000, capMs: 10 * 60_000 }

/** The inline phase in the callback: short waits, because a grower's browser is waiting. */
export const INLINE_SCHEDULE: RetryPolicy = { attempts: 4, baseMs: 250, capMs: 1_500 }
