import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import type { JobQueue, RedisMulti } from '../jobs/queue.js'

/**
 * A refresh token waiting for Leaf: sealed (never in clear), with what a later try needs to be
 * idempotent. Stored as one Redis hash per delivery.
 */
export interface ParkedDelivery {
  deliveryId: string
  leafUserId: string
  connectSessionId: string
  /** token-cipher output, bound to deliveryId and leafUserId. */
  sealedToken: string
  createdAt: number
  /**
   * Set (before Leaf is changed) once a try has got as far as deleting the old credential and
   * posting. A later try that then finds a credential other than `replacedId` at Leaf knows an
   * earlier post of ours landed (a timeout after Leaf stored it) and does not post again.
   */
  attempted: boolean
  /** The credential id found (and deleted) before the first post; null when there was none. */
  replacedId: string | null
}

/**
 * The associated data a parked token is sealed with (token-cipher.ts): a record copied to another
 * delivery or grower does not open.
 */
export function sealContext(deliveryId: string, leafUserId: string): string {
  return `${deliveryId}|${leafUserId}`
}

/** A parked token is useless after this: Raven refresh tokens die after 15 days unused. */
export const PARKED_TTL_MS = 15 * 24 * 3600 * 1000

const NONE = '-'

// Deletes KEYS[1] only while it still holds ARGV[1]: a lock or pending marker owned by someone else
// (a newer delivery for the same grower) is left alone.
const DELETE_IF_EQUAL = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
// HSET on a missing key would recreate a record (without TTL) that another try already finished.
const MARK_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], 'attempted', '1', 'replacedId', ARGV[1]) else return -1 end`
const RENEW_IF_EQUAL = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

/** The parked token was finished (delivered, cancelled) by another try while this one ran. */
export class OutboxRecordGone extends Error {
  constructor(readonly deliveryId: string) {
    super(`outbox: delivery ${deliveryId} is no longer parked`)
    this.name = 'OutboxRecordGone'
  }
}

export interface Outbox {
  /**
   * One MULTI: the sealed token, the grower's pending marker, the grower's delivery lock (when free)
   * and the delayed delivery job. Either all of it is in Redis or none of it.
   * @returns whether this delivery holds the grower's lock.
   */
  park(record: ParkedDelivery, job: { delayMs: number; lockOwner: string; lockTtlMs: number }): Promise<{ locked: boolean }>
  load(deliveryId: string): Promise<ParkedDelivery | null>
  markAttempted(deliveryId: string, replacedId: string | null): Promise<void>
  /** Deletes the parked token; clears the pending marker if it is still this delivery's; `also` joins the MULTI. */
  finish(record: ParkedDelivery, also?: (multi: RedisMulti) => Promise<void>): Promise<void>
  /** The delivery id the grower's newest parked token belongs to, if any. */
  latestFor(leafUserId: string): Promise<string | null>
  isPending(leafUserId: string): Promise<boolean>
  /** Drops the grower's undelivered token (disconnect): its job then finds nothing to deliver. */
  cancel(leafUserId: string): Promise<boolean>
  tryLock(leafUserId: string, owner: string, ttlMs: number): Promise<boolean>
  renewLock(leafUserId: string, owner: string, ttlMs: number): Promise<boolean>
  unlock(leafUserId: string, owner: string): Promise<void>
  /** For tests and operators: the key a delivery's record lives under. */
  recordKey(deliveryId: string): string
}

export function createOutbox(jobs: JobQueue): Outbox {
  const key = redisKeys.outbox(jobs.prefix)
  const client = (): Promise<Redis> => jobs.client()

  return {
    recordKey: key.record,
    async park(record, job) {
      const redis = await client()
      const multi = redis.multi()
      multi.hset(key.record(record.deliveryId), toHash(record))
      multi.pexpire(key.record(record.deliveryId), PARKED_TTL_MS)
      // Newest wins: a later consent of the same grower supersedes an undelivered earlier one.
      multi.set(key.pending(record.leafUserId), record.deliveryId, 'PX', PARKED_TTL_MS)
      multi.set(key.lock(record.leafUserId), job.lockOwner, 'PX', job.lockTtlMs, 'NX')
      await jobs.addToMulti(
        multi,
        'deliver-credential',
        { deliveryId: record.deliveryId, leafUserId: record.leafUserId },
        { jobId: record.deliveryId, delay: job.delayMs },
      )
      const results = await multi.exec()
      if (results === null) throw new Error('outbox: the MULTI was aborted')
      const failed = results.find(([err]) => err !== null)
      if (failed) throw failed[0]
      return { locked: results[3]?.[1] === 'OK' }
    },
    async load(deliveryId) {
      const hash = await (await client()).hgetall(key.record(deliveryId))
      return fromHash(deliveryId, hash)
    },
    async markAttempted(deliveryId, replacedId) {
      const result = await (await client()).eval(MARK_IF_EXISTS, 1, key.record(deliveryId), replacedId ?? NONE)
      if (result === -1) throw new OutboxRecordGone(deliveryId)
    },
    async finish(record, also) {
      const multi = (await client()).multi()
      multi.del(key.record(record.deliveryId))
      multi.eval(DELETE_IF_EQUAL, 1, key.pending(record.leafUserId), record.deliveryId)
      if (also) await also(multi)
      const results = await multi.exec()
      const failed = results?.find(([err]) => err !== null)
      if (failed) throw failed[0]
    },
    async latestFor(leafUserId) {
      return (await client()).get(key.pending(leafUserId))
    },
    async isPending(leafUserId) {
      return (await (await client()).exists(key.pending(leafUserId))) === 1
    },
    async cancel(leafUserId) {
      const redis = await client()
      const deliveryId = await redis.getdel(key.pending(leafUserId))
      if (deliveryId === null) return false
      await redis.del(key.record(deliveryId))
      return true
    },
    async tryLock(leafUserId, owner, ttlMs) {
      return (await (await client()).set(key.lock(leafUserId), owner, 'PX', ttlMs, 'NX')) === 'OK'
    },
    async renewLock(leafUserId, owner, ttlMs) {
      return (await (await client()).eval(RENEW_IF_EQUAL, 1, key.lock(leafUserId), owner, String(ttlMs))) === 1
    },
    async unlock(leafUserId, owner) {
      await (await client()).eval(DELETE_IF_EQUAL, 1, key.lock(leafUserId), owner)
    },
  }
}

function toHash(record: ParkedDelivery): Record<string, string> {
  return {
    leafUserId: record.leafUserId,
    connectSessionId: record.connectSessionId,
    sealedToken: record.sealedToken,
    createdAt: String(record.createdAt),
    attempted: record.attempted ? '1' : '0',
    replacedId: record.replacedId ?? NONE,
  }
}

function fromHash(deliveryId: string, hash: Record<string, string>): ParkedDelivery | null {
  if (!hash.sealedToken || !hash.leafUserId) return null
  return {
    deliveryId,
    leafUserId: hash.leafUserId,
    connectSessionId: hash.connectSessionId ?? '',
    sealedToken: hash.sealedToken,
    createdAt: Number(hash.createdAt ?? 0),
    attempted: hash.attempted === '1',
    replacedId: !hash.replacedId || hash.replacedId === NONE ? null : hash.replacedId,
  }
}
