import type { AtomicStep } from '../infra/atomic-write.js'
import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import type { JobQueue, RedisMulti } from '../jobs/queue.js'
import {
  APPLY_ALERT,
  CLEAR_NOTIFY,
  FORGET,
  HEALTHS,
  REGISTER,
  REGISTER_STEP,
  type AlertVerdict,
  type Health,
} from './scripts.js'

export { HEALTHS, type AlertVerdict, type Health }

/** One connection as the registry knows it (contract: the list endpoint's item, plus what alerts need). */
export interface RegisteredConnection {
  leafUserId: string
  credentialId: string
  health: Health
  /** Epoch ms of the alert that set `health`; null while it is `ok`. */
  healthChangedAt: number | null
  connectedAt: number
}

/** What a credential alert asks the registry to record (see leaf-alerts/). */
export interface HealthChange {
  credentialId: string
  health: Exclude<Health, 'ok'>
  /** Epoch ms of Leaf's `timestamp`. */
  at: number
  leafStatus: string
  /** Stable per alert: Leaf's retries and replays of one alert carry the same key. */
  alertKey: string
}

export interface ListPage {
  connections: RegisteredConnection[]
  /** The last Leaf user id of this page, when more may follow. */
  after: string | null
}

/**
 * The connection registry: which credential this service put at Leaf for which grower, and what Leaf's
 * Alerts last said of it. Kept in Redis without expiry; every change is one Lua script, so concurrent
 * alerts, deliveries and disconnects see each other whole.
 */
export interface ConnectionRegistry {
  /**
   * The grower's entry is this credential, health `ok`: as a step the delivery's finish script runs in
   * its own atomic step, only when the delivery really ended (infra/atomic-write.ts AtomicStep), so a
   * crash cannot leave a delivered credential unknown to Leaf's Alerts. The registry owns the step's
   * Lua (scripts.ts REGISTER_STEP) and its keys and args.
   */
  registrationStep(entry: { leafUserId: string; credentialId: string; createdTime: string }): AtomicStep
  /** The same as a script of its own, for a credential the connection API read but had not registered. */
  register(entry: { leafUserId: string; credentialId: string; createdTime: string }): Promise<void>
  /** Disconnect: the grower's entry, its credential mapping and its index entries go. */
  forget(leafUserId: string): Promise<void>
  get(leafUserId: string): Promise<RegisteredConnection | null>
  /**
   * Records a credential alert if it changes something: unknown credential, replaced credential, an
   * alert older than the credential or the last health change, or a repeat change nothing.
   */
  applyAlert(change: HealthChange): Promise<AlertVerdict>
  /** After the `connection.broken` webhook is queued: the alert needs no more telling (in `multi`, a MULTI of `client()`). */
  clearNotifyInMulti(multi: RedisMulti, leafUserId: string, alertKey: string): void
  /** Up to `limit` entries after the Leaf user id `after`, in id order, optionally of one health. */
  list(options: { health?: Health; limit: number; after?: string }): Promise<ListPage>
  /** The Redis client the registry writes with (the job queue's producer connection, with the registry's scripts defined). */
  client(): Promise<Redis>
}

/*
 * The scripts, loaded once per connection (ioredis defineCommand: EVALSHA, the body only after a
 * NOSCRIPT), never re-sent per call; the caller passes the key count first. A MULTI of that connection
 * has them too.
 */
const SCRIPTS = {
  rcRegistryRegister: REGISTER,
  rcRegistryForget: FORGET,
  rcRegistryApplyAlert: APPLY_ALERT,
  rcRegistryClearNotify: CLEAR_NOTIFY,
} as const
type Script = (...args: Array<string | number>) => Promise<unknown>
type RegistryRedis = Redis & { [name in keyof typeof SCRIPTS]: Script }
type RegistryMulti = RedisMulti & { [name in keyof typeof SCRIPTS]: (...args: Array<string | number>) => RedisMulti }

export function createConnectionRegistry(jobs: JobQueue): ConnectionRegistry {
  const keys = redisKeys.registry(jobs.prefix)
  const withScripts = new WeakSet<object>()
  const client = async (): Promise<RegistryRedis> => {
    const redis = await jobs.client()
    if (!withScripts.has(redis)) {
      for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua })
      withScripts.add(redis)
    }
    return redis as RegistryRedis
  }
  const healthKeys = HEALTHS.map((health) => keys.healthPrefix + health)

  // REGISTER_STEP's K and A (scripts.ts).
  const registrationStep: ConnectionRegistry['registrationStep'] = (entry) => ({
    name: 'Register',
    lua: REGISTER_STEP,
    keys: [keys.userPrefix + entry.leafUserId, keys.credentialPrefix + entry.credentialId, keys.index, keys.healthPrefix + 'ok', ...healthKeys],
    args: [entry.leafUserId, entry.credentialId, String(Date.now()), String(leafTimeMs(entry.createdTime) ?? ''), keys.credentialPrefix],
  })

  return {
    client,
    registrationStep,
    async register(entry) {
      const step = registrationStep(entry)
      await (await client()).rcRegistryRegister(step.keys.length, ...step.keys, ...step.args)
    },
    async forget(leafUserId) {
      await (await client()).rcRegistryForget(2 + healthKeys.length, keys.userPrefix + leafUserId, keys.index, ...healthKeys, leafUserId, keys.credentialPrefix)
    },
    async get(leafUserId) {
      return fromHash(leafUserId, await (await client()).hgetall(keys.userPrefix + leafUserId))
    },
    async applyAlert(change) {
      const answer = (await (await client()).rcRegistryApplyAlert(
        1 + healthKeys.length,
        keys.credentialPrefix + change.credentialId,
        ...healthKeys,
        keys.userPrefix,
        change.credentialId,
        change.health,
        String(change.at),
        change.leafStatus,
        change.alertKey,
        keys.healthPrefix,
      )) as [string, string?]
      return { outcome: answer[0] as AlertVerdict['outcome'], leafUserId: answer[1] ?? null } as AlertVerdict
    },
    clearNotifyInMulti(multi, leafUserId, alertKey) {
      // The MULTI must be of `client()`'s connection, which has the scripts defined.
      ;(multi as RegistryMulti).rcRegistryClearNotify(1, keys.userPrefix + leafUserId, alertKey)
    },
    async list({ health, limit, after }) {
      const redis = await client()
      const index = health === undefined ? keys.index : keys.healthPrefix + health
      // Lexicographic paging by Leaf user id: an entry's place does not depend on the others, so
      // entries added or removed meanwhile cannot push an unchanged one past the cursor.
      const ids = await redis.zrangebylex(index, after === undefined ? '-' : `(${after}`, '+', 'LIMIT', 0, limit)
      const pipeline = redis.pipeline()
      for (const id of ids) pipeline.hgetall(keys.userPrefix + id)
      const hashes = (await pipeline.exec()) ?? []
      const connections: RegisteredConnection[] = []
      ids.forEach((id, i) => {
        const entry = fromHash(id, (hashes[i]?.[1] ?? {}) as Record<string, string>)
        // Gone or moved to another health between the two reads: left out, like a later read would.
        if (entry && (health === undefined || entry.health === health)) connections.push(entry)
      })
      return { connections, after: ids.length === limit ? (ids[ids.length - 1] ?? null) : null }
    },
  }
}

/** Leaf's times carry microseconds (`…T12:00:00.123456Z`); Date.parse wants at most milliseconds. */
export function leafTimeMs(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : null
  const trimmed = value.trim().replace(/(\.\d{3})\d+/, '$1')
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  const ms = Date.parse(trimmed)
  return Number.isNaN(ms) ? null : ms
}

function fromHash(leafUserId: string, hash: Record<string, string>): RegisteredConnection | null {
  if (!hash.credentialId) return null
  const health = (HEALTHS as readonly string[]).includes(hash.health ?? '') ? (hash.health as Health) : 'ok'
  return {
    leafUserId,
    credentialId: hash.credentialId,
    health,
    healthChangedAt: hash.healthChangedAt ? Number(hash.healthChangedAt) : null,
    connectedAt: Number(hash.connectedAt ?? 0),
  }
}
