import { randomUUID } from 'node:crypto'

import type { Processor } from 'bullmq'

import type { Config } from '../config/load-config.js'
import type { LeafClient } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import type { JobQueue } from '../jobs/queue.js'
import type { ConnectionRegistry } from '../registry/registry.js'
import type { Webhooks } from '../webhooks/events.js'
import type { CredentialDelivery } from './credential-delivery.js'
import { createDeliveryFinish } from './finish.js'
import { createGrowerLock } from './grower-lock.js'
import { createInlinePhase } from './inline.js'
import { createDeliveryJobProcessor, type DeliveryJobData } from './job.js'
import type { Outbox } from './outbox.js'
import { createRelay, type Relay } from './relay.js'
import { createTokenCipher } from './token-cipher.js'

export interface DurableDeliveryOptions {
  config: Config
  leaf: LeafClient
  logger: Logger
  jobs: JobQueue
  outbox: Outbox
  webhooks: Webhooks
  /** Written in the finishing script of every delivered credential (finish.ts). */
  registry: ConnectionRegistry
  metrics: Pick<Metrics, 'deliveries'>
  /** How long the callback waits for Leaf before answering `pending`. Default 4000. */
  inlineBudgetMs?: number
  /** Lifetime of a grower's delivery lock, renewed while a try runs. Default 10000. */
  lockTtlMs?: number
  /** How often the relay looks for overdue deliveries and recorded webhooks. Default 1000. */
  relayIntervalMs?: number
  /** How often the relay rechecks a delivery the queue owns. Default 60000. */
  relayWatchMs?: number
  /** How long a disconnect waits for a try already talking to Leaf. Default 15000. */
  disconnectWaitMs?: number
  /** Revokes a refresh token at Raven (a cancelled delivery's undo). Default: revokes nothing. */
  revokeAtRaven?: (refreshToken: string) => Promise<boolean>
}

export interface DurableDelivery extends CredentialDelivery {
  /** The 'deliver-credential' job processor for the queue worker. */
  processJob: Processor<DeliveryJobData>
  /** The outbox relay (relay.ts): started with the worker. */
  relay: Relay
  /** Waits (bounded) for inline tries that outlived their request; tells them to stop retrying. */
  drain(timeoutMs: number): Promise<void>
}

/**
 * The transactional outbox: park first, then deliver. The refresh token is sealed and parked in Redis
 * with its due-time in one script before Leaf is called, so a process killed one instruction later
 * loses nothing: once the record is due, the relay (relay.ts) queues its job. The callback then tries
 * inline for `inlineBudgetMs` (inline.ts); delivered, one more script ends the record and records the
 * webhook (finish.ts): two scripts and one write on the happy path, no job. A token not delivered by
 * then is `pending` and handed to the queue, which keeps trying on the durable schedule until Leaf
 * takes it or refuses it (job.ts). Every try takes the grower's lock (grower-lock.ts) and is
 * idempotent (deliver-once.ts).
 */
export function createDurableDelivery(options: DurableDeliveryOptions): DurableDelivery {
  const { leaf, outbox, jobs, webhooks, metrics } = options
  const log = options.logger.child({ module: 'delivery' })
  const cipher = createTokenCipher(options.config.tokenEncryptionKey)
  let stopping = false
  const isStopping = () => stopping
  const lock = createGrowerLock({ outbox, ttlMs: options.lockTtlMs ?? 10_000, log, isStopping })
  const finish = createDeliveryFinish({ outbox, webhooks, registry: options.registry, metrics, log })
  const relayWatchMs = options.relayWatchMs ?? 60_000
  const relay = createRelay({ outbox, jobs, webhooks, finish, log, intervalMs: options.relayIntervalMs ?? 1000, watchMs: relayWatchMs })
  const credentialFor = (refreshToken: string) => ({
    clientId: options.config.raven.clientId,
    clientSecret: options.config.raven.clientSecret,
    refreshToken,
  })
  const revokeAtRaven = options.revokeAtRaven ?? (async () => false)
  const inline = createInlinePhase({
    leaf,
    outbox,
    webhooks,
    metrics,
    log,
    cipher,
    lock,
    finish,
    credentialFor,
    revokeAtRaven,
    budgetMs: options.inlineBudgetMs ?? 4000,
    relayWatchMs,
    isStopping,
  })
  const disconnectWaitMs = options.disconnectWaitMs ?? 15_000

  return {
    deliver: (request) => inline.deliver(request),
    isPending: (leafUserId) => outbox.isPending(leafUserId),
    async cancel(leafUserId) {
      const cancelled = await outbox.cancel(leafUserId)
      // A try already talking to Leaf holds the lock: wait for it, so its post lands before our delete.
      const owner = `disconnect:${randomUUID()}`
      const locked = await lock.waitFor(leafUserId, owner, Date.now() + disconnectWaitMs)
      if (!locked) log.warn({ leafUserId }, 'disconnect: a delivery try still holds the grower; deleting anyway (the try undoes its own post)')
      const held = locked ? lock.hold(leafUserId, owner) : undefined
      return { cancelled, release: async () => held?.release() }
    },
    processJob: createDeliveryJobProcessor({ leaf, outbox, log, cipher, lock, finish, credentialFor, revokeAtRaven }),
    relay,
    async drain(timeoutMs) {
      stopping = true
      await relay.stop()
      await inline.settle(timeoutMs)
    },
  }
}
