import type { Processor } from 'bullmq'

import { describeLeafFailure, type LeafClient, type RavenCredentialInput } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import { DelayedError, UnrecoverableError } from '../jobs/queue.js'
import { deliverOnce, TryAborted } from './deliver-once.js'
import { undoCancelled } from './undo.js'
import { logContext, type DeliveryFinish } from './finish.js'
import type { GrowerLock } from './grower-lock.js'
import { OutboxRecordGone, sealContext, type Outbox } from './outbox.js'
import { TokenCipherError, type TokenCipher } from './token-cipher.js'

export interface DeliveryJobDeps {
  leaf: LeafClient
  outbox: Outbox
  log: Logger
  cipher: TokenCipher
  lock: GrowerLock
  finish: DeliveryFinish
  credentialFor(refreshToken: string): RavenCredentialInput
  /** Revokes a refresh token at Raven, best effort (undoing a cancelled delivery). */
  revokeAtRaven(refreshToken: string): Promise<boolean>
}

export type DeliveryJobData = { deliveryId: string; leafUserId: string }

/**
 * The 'deliver-credential' job: one try per run, on the durable schedule (jobs/schedules.ts), until
 * Leaf takes the token or refuses it for good, or the schedule's last try fails. A token superseded
 * by a newer consent of the same grower, or dropped by a disconnect, is not delivered.
 */
export function createDeliveryJobProcessor(deps: DeliveryJobDeps): Processor<DeliveryJobData> {
  const { leaf, outbox, log, cipher, lock, finish } = deps
  return async (job, token, signal) => {
    const { deliveryId, leafUserId } = job.data
    const returnLater = async (delayMs: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + delayMs, token)
      throw new DelayedError()
    }
    const parked = await outbox.load(deliveryId)
    if (parked === null) return 'nothing parked'
    if ((await outbox.latestFor(leafUserId)) !== deliveryId) {
      // A later consent of the same grower (or a disconnect) replaced this one: the newest wins.
      await outbox.finish(parked)
      log.info(logContext(parked), 'parked token superseded; dropped')
      return 'superseded'
    }
    const owner = `job:${deliveryId}:${token ?? ''}`
    if (!(await outbox.tryLock(leafUserId, owner, lock.ttlMs))) return returnLater(1000 + Math.floor(Math.random() * 1000))
    const held = lock.hold(leafUserId, owner)
    const heldLock = { owner, ttlMs: lock.ttlMs }
    let releasedByFinish = false
    try {
      // Read again under the lock: the try that held it may have finished the record.
      const record = await outbox.load(deliveryId)
      if (record === null) return 'nothing parked'
      let refreshToken: string
      try {
        refreshToken = cipher.open(record.sealedToken, sealContext(deliveryId, leafUserId))
      } catch (err) {
        if (err instanceof TokenCipherError && err.kind === 'unknown_key') {
          log.warn({ ...logContext(record), keyId: cipher.keyIdOf(record.sealedToken) }, 'parked token sealed under another TOKEN_ENCRYPTION_KEY; left for an instance that has it')
          return await returnLater(60_000)
        }
        log.error({ ...logContext(record), failure: err instanceof TokenCipherError ? err.kind : 'unknown' }, 'parked token failed authentication (tampered?): refused, never delivered')
        releasedByFinish = (await finish.failed(record, 'server_error', true, 'job', heldLock)) === 'finished'
        throw new UnrecoverableError('parked token refused')
      }
      // Shutting down: hand the job back untouched rather than start on Leaf.
      if (signal?.aborted) return await returnLater(0)
      try {
        const summary = await deliverOnce(leaf, outbox, record, deps.credentialFor(refreshToken), signal)
        if ((await finish.delivered(record, summary, 'job', heldLock)) === 'finished') {
          releasedByFinish = true
          return 'delivered'
        }
        await undoCancelled(deps, record, refreshToken)
        return 'cancelled'
      } catch (err) {
        if (err instanceof OutboxRecordGone) return 'nothing parked'
        if (err instanceof TryAborted) {
          log.info(logContext(record), 'shutting down: delivery job returned to the queue')
          return await returnLater(0)
        }
        const leafFailure = describeLeafFailure(err)
        const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
        if (leafFailure?.final || lastTry) {
          // Should this fail too (Redis), the relay ends the record once it sees the job failed.
          releasedByFinish = (await finish.failed(record, leafFailure?.flowReason ?? 'server_error', true, 'job', heldLock)) === 'finished'
          throw new UnrecoverableError(`delivery failed for good: ${(err as Error).message}`)
        }
        log.info({ ...logContext(record), attempt: job.attemptsMade + 1, err }, 'delivery try failed; retrying later')
        throw err
      }
    } finally {
      if (releasedByFinish) held.stop()
      else await held.release()
    }
  }
}
