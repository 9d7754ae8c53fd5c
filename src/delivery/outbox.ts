import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import { execMulti, type JobQueue } from '../jobs/queue.js'
import { stepFunction, type AtomicStep, type AtomicWrite } from '../infra/atomic-write.js'

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

// KEYS: record, pending, lock, due, one key per extra write, then the step's keys. ARGV: deliveryId,
// lockOwner ('' = none), lockTtlMs, writes as JSON [[command, arg, …], …], then the step's args.
// Deletes the record, and the pending marker and lock where they are still this delivery's. The
// extra writes (webhook event …) and then the step (the connection registry's entry) run only when
// the record was still there: a delivery cancelled meanwhile (disconnect) ends without them, and
// keeps its lock for the undo. `stepLua` is an AtomicStep's body; '' for a finish without one.
function finishScript(stepLua: string): string {
  return `${stepFunction(stepLua)}
local current = redis.call('MGET', KEYS[2], KEYS[3])
local doomed = { KEYS[1] }
if current[1] == ARGV[1] then doomed[#doomed + 1] = KEYS[2] end
local ownLock = ARGV[2] ~= '' and current[2] == ARGV[2]
if ownLock then doomed[#doomed + 1] = KEYS[3] end
local deleted = redis.call('DEL', unpack(doomed))
redis.call('ZREM', KEYS[4], ARGV[1])
if deleted < #doomed then
  if ownLock then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3]) end
  return 0
end
local writes = cjson.decode(ARGV[4])
for i, write in ipairs(writes) do
  redis.call(write[1], KEYS[4 + i], unpack(write, 2))
end
step({ unpack(KEYS, 5 + #writes) }, { unpack(ARGV, 5) })
return 1`
}

/*
 * The outbox's scripts, loaded once per connection (ioredis defineCommand: EVALSHA, the script body
 * only after a NOSCRIPT). Every command inside a script is a command Redis runs, so the happy path's
 * scripts touch each key once: park writes four keys, finish reads two and deletes up to three in one
 * DEL. All keys share the `{jobs}` hash tag (infra/keys.ts), so each script is one Redis Cluster slot.
 */
const SCRIPTS = {
  // KEYS: record, pending, lock, due. ARGV: deliveryId, pendingTtlMs, lockOwner, lockTtlMs, dueAt, field, value, …
  // Newest wins: a later consent of the same grower supersedes an undelivered earlier one (pending),
  // but the lock stays with a try already talking to Leaf. `due` is when the relay looks at it.
  rcOutboxPark: {
    numberOfKeys: 4,
    lua: `redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local locked = redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4], 'NX')
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
if locked then return 1 end
return 0`,
  },
  rcOutboxFinish: {
    // No numberOfKeys: the caller passes the key count first (the extra writes vary).
    lua: finishScript(''),
  },
  // KEYS: the key. ARGV: the expected value. Deletes it only while it still holds that value: a lock
  // owned by someone else is left alone.
  rcDeleteIfEqual: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  },
  // KEYS: the lock. ARGV: owner, ttlMs.
  rcRenewIfEqual: {
    numberOfKeys: 1,
    lua: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  },
} as const

type ScriptArg = string | number
type OutboxRedis = Redis & { [name in keyof typeof SCRIPTS]: (...args: ScriptArg[]) => Promise<number> }

/** Step bodies by finish-variant name, across connections: one name, one body. */
const stepBodies = new Map<string, string>()

/** The parked token was finished (delivered, cancelled) by another try while this one ran. */
export class OutboxRecordGone extends Error {
  constructor(readonly deliveryId: string) {
    super(`outbox: delivery ${deliveryId} is no longer parked`)
    this.name = 'OutboxRecordGone'
  }
}

/** `finished`: the record ended here, with the extra writes. `gone`: cancelled or ended elsewhere first. */
export type FinishResult = 'finished' | 'gone'

export interface Outbox {
  /**
   * One script, one round trip: the sealed token, the grower's pending marker, the grower's delivery
   * lock (when free) and the record's due-time for the relay. No job: the queue is used only when a
   * delivery does not end inline (handOver) or the process died first (the relay).
   * @returns whether this delivery holds the grower's lock.
   */
  park(record: ParkedDelivery, options: { lockOwner: string; lockTtlMs: number; dueAt: number }): Promise<{ locked: boolean }>
  load(deliveryId: string): Promise<ParkedDelivery | null>
  /** Records, before Leaf is changed, that a post is under way. @throws OutboxRecordGone */
  markAttempted(deliveryId: string, replacedId: string | null): Promise<void>
  /**
   * Ends a delivery in one script: the record goes; the pending marker and the lock (`lockOwner`) go
   * where they are still this delivery's; and `writes` run in the same script, only when the record
   * was still parked, then `step`.
   *
   * EXTENSION POINT: `writes` and `step` are how another module records something exactly when a
   * delivery ends: AtomicWrites (infra/atomic-write.ts) for plain writes (the webhook event), an
   * AtomicStep for a change that reads first (the connection registry's entry). Their keys carry the
   * job prefix's hash tag. A finish with a step runs a variant of the finish script with the step's
   * body in it, loaded once per step name. A cancelled delivery (`gone`) runs none of them, and keeps
   * its lock for the caller to release.
   */
  finish(record: ParkedDelivery, options?: { lockOwner?: string; lockTtlMs?: number; writes?: AtomicWrite[]; step?: AtomicStep }): Promise<FinishResult>
  /** The inline tries gave up: the delivery job takes over (one MULTI with the relay's next look). */
  handOver(record: Pick<ParkedDelivery, 'deliveryId' | 'leafUserId'>, options: { delayMs: number; watchAt: number }): Promise<void>
  /** Delivery ids whose due-time has passed, oldest first (the relay's work list). */
  overdue(now: number, limit: number): Promise<string[]>
  /** When the relay should look at this delivery again. */
  watch(deliveryId: string, at: number): Promise<void>
  /** Removes a delivery id from the relay's list (its record is gone). */
  forget(deliveryId: string): Promise<void>
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
  const withScripts = new WeakSet<object>()
  const client = async (): Promise<OutboxRedis> => {
    const redis = await jobs.client()
    if (!withScripts.has(redis)) {
      for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script)
      withScripts.add(redis)
    }
    return redis as OutboxRedis
  }
  /** The finish script with `step` in it: defined on the connection at its first use (EVALSHA after). */
  const withSteps = new WeakMap<object, Set<string>>()
  const finishWithStep = (redis: OutboxRedis, step: AtomicStep): ((...args: ScriptArg[]) => Promise<number>) => {
    const name = `rcOutboxFinishThen${step.name}`
    const defined = withSteps.get(redis) ?? new Set<string>()
    withSteps.set(redis, defined)
    if (!defined.has(name)) {
      const known = stepBodies.get(name)
      if (known !== undefined && known !== step.lua) throw new Error(`outbox: two different bodies for the finish step ${step.name}`)
      stepBodies.set(name, step.lua)
      redis.defineCommand(name, { lua: finishScript(step.lua) })
      defined.add(name)
    }
    return (redis as unknown as Record<string, (...args: ScriptArg[]) => Promise<number>>)[name] as (...args: ScriptArg[]) => Promise<number>
  }

  return {
    recordKey: key.record,
    async park(record, options) {
      const redis = await client()
      const fields = Object.entries(toHash(record)).flat()
      const { deliveryId, leafUserId } = record
      const locked = await redis.rcOutboxPark(
        key.record(deliveryId),
        key.pending(leafUserId),
        key.lock(leafUserId),
        key.due,
        deliveryId,
        PARKED_TTL_MS,
        options.lockOwner,
        options.lockTtlMs,
        options.dueAt,
        ...fields,
      )
      return { locked: locked === 1 }
    },
    async load(deliveryId) {
      const hash = await (await client()).hgetall(key.record(deliveryId))
      return fromHash(deliveryId, hash)
    },
    async markAttempted(deliveryId, replacedId) {
      const redis = await client()
      // One plain HSET: both fields exist while the record does, so HSET adds none. Fields added mean
      // the record was gone (finished or cancelled) and this HSET just left a stub behind: remove it.
      const added = await redis.hset(key.record(deliveryId), 'attempted', '1', 'replacedId', replacedId ?? NONE)
      if (added > 0) {
        await redis.del(key.record(deliveryId))
        throw new OutboxRecordGone(deliveryId)
      }
    },
    async finish(record, options = {}) {
      const redis = await client()
      const writes = options.writes ?? []
      const step = options.step
      const stepKeys = step?.keys ?? []
      const run = step ? finishWithStep(redis, step).bind(redis) : redis.rcOutboxFinish.bind(redis)
      const finished = await run(
        4 + writes.length + stepKeys.length,
        key.record(record.deliveryId),
        key.pending(record.leafUserId),
        key.lock(record.leafUserId),
        key.due,
        ...writes.map((write) => write.key),
        ...stepKeys,
        record.deliveryId,
        options.lockOwner ?? '',
        options.lockTtlMs ?? 10_000,
        JSON.stringify(writes.map((write) => [write.command, ...write.args])),
        ...(step?.args ?? []),
      )
      return finished === 1 ? 'finished' : 'gone'
    },
    async handOver(record, options) {
      const multi = (await client()).multi()
      // XX: a record cancelled meanwhile is not put back on the relay's list.
      multi.zadd(key.due, 'XX', options.watchAt, record.deliveryId)
      await jobs.addToMulti(
        multi,
        'deliver-credential',
        { deliveryId: record.deliveryId, leafUserId: record.leafUserId },
        { jobId: record.deliveryId, delay: options.delayMs },
      )
      await execMulti(multi, 'outbox')
    },
    async overdue(now, limit) {
      return (await client()).zrangebyscore(key.due, '-inf', now, 'LIMIT', 0, limit)
    },
    async watch(deliveryId, at) {
      await (await client()).zadd(key.due, 'XX', at, deliveryId)
    },
    async forget(deliveryId) {
      await (await client()).zrem(key.due, deliveryId)
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
      await redis.multi().del(key.record(deliveryId)).zrem(key.due, deliveryId).exec()
      return true
    },
    async tryLock(leafUserId, owner, ttlMs) {
      return (await (await client()).set(key.lock(leafUserId), owner, 'PX', ttlMs, 'NX')) === 'OK'
    },
    async renewLock(leafUserId, owner, ttlMs) {
      return (await (await client()).rcRenewIfEqual(key.lock(leafUserId), owner, ttlMs)) === 1
    },
    async unlock(leafUserId, owner) {
      await (await client()).rcDeleteIfEqual(key.lock(leafUserId), owner)
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
