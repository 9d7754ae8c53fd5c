import { sleep } from '../infra/async.js'
import type { Logger } from '../infra/logger.js'
import type { Outbox } from './outbox.js'

/**
 * The per-grower delivery lock (a Redis key with a TTL, in the outbox): at most one try for a grower
 * talks to Leaf at a time, across every instance, so Leaf's look-up/delete/create steps of two tries
 * never interleave.
 */
export interface GrowerLock {
  /** Lifetime of the lock; a holder renews it every third of this. */
  readonly ttlMs: number
  /**
   * Keeps the taken lock alive while a try runs. `stop` only stops renewing (the finish script released
   * the lock itself); `release` stops and releases it.
   */
  hold(leafUserId: string, owner: string): HeldGrowerLock
  /** Polls for the lock until `deadline` (epoch ms) or shutdown; true once taken. */
  waitFor(leafUserId: string, owner: string, deadline: number): Promise<boolean>
}

export interface HeldGrowerLock {
  stop(): void
  release(): Promise<void>
}

export function createGrowerLock(deps: { outbox: Outbox; ttlMs: number; log: Logger; isStopping: () => boolean }): GrowerLock {
  const { outbox, ttlMs, log } = deps
  return {
    ttlMs,
    hold(leafUserId, owner) {
      // Renewed while the try runs, so a slow Leaf does not let a second try in.
      const timer = setInterval(() => {
        outbox.renewLock(leafUserId, owner, ttlMs).catch(() => undefined)
      }, Math.floor(ttlMs / 3))
      timer.unref()
      return {
        stop: () => clearInterval(timer),
        async release() {
          clearInterval(timer)
          await outbox.unlock(leafUserId, owner).catch((err: unknown) => log.warn({ err }, 'could not release delivery lock'))
        },
      }
    },
    async waitFor(leafUserId, owner, deadline) {
      while (Date.now() < deadline && !deps.isStopping()) {
        if (await outbox.tryLock(leafUserId, owner, ttlMs)) return true
        await sleep(200)
      }
      return false
    },
  }
}
