import { createHash, randomBytes } from 'node:crypto'

import { problem } from '../http/problem.js'
import { sleep } from '../infra/async.js'
import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'

export interface ExternalIdLockOptions {
  /** The lock expires on its own after this, should its holder die mid-request. */
  ttlMs: number
  /** How long a second request waits for the first before giving up with 503. */
  waitMs: number
  /** Pause between tries while waiting. */
  pollMs: number
}

/** Longer than one find-or-create at Leaf takes with its retries (DEFAULT_RETRY, 5 s per try). */
export const EXTERNAL_ID_LOCK: ExternalIdLockOptions = { ttlMs: 30_000, waitMs: 30_000, pollMs: 50 }

// Deletes the lock only while it is still ours: after a TTL expiry another request may hold it.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

/**
 * Runs `work` for one externalId at a time across every instance (a Redis key, SET NX with a TTL).
 * Leaf's find-or-create is a look then a create: two concurrent requests for a new externalId (a host
 * retrying after a timeout) would both look, find nothing and create two Leaf users. The second waits
 * here instead, then looks and finds the first one's user. The key holds a hash: externalIds may be
 * personal data (an email), and keys show up in scans.
 */
export function createExternalIdLock(redis: Redis, options: ExternalIdLockOptions = EXTERNAL_ID_LOCK) {
  return async function withExternalIdLock<T>(externalId: string, work: () => Promise<T>): Promise<T> {
    const key = redisKeys.externalIdLock(createHash('sha256').update(externalId).digest('hex'))
    const owner = randomBytes(16).toString('hex')
    const deadline = Date.now() + options.waitMs
    while ((await redis.set(key, owner, 'PX', options.ttlMs, 'NX')) !== 'OK') {
      if (Date.now() >= deadline) {
        throw problem.serviceUnavailable('Another request for this externalId is still being handled; try again shortly.')
      }
      await sleep(options.pollMs)
    }
    try {
      return await work()
    } finally {
      await redis.eval(RELEASE, 1, key, owner).catch(() => undefined)
    }
  }
}

export type WithExternalIdLock = ReturnType<typeof createExternalIdLock>
