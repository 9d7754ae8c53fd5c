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
import { createTokenCipher } from './token-cipher.js'

export interface DurableDeliveryOptions {
  config: Config
  leaf: LeafClient
  logger: Logger
  jobs: JobQueue
  outbox: Outbox
  webhooks: Webhooks
  /** Written in the finishing MULTI of every delivered credential. */
  registry: ConnectionRegistry
  metrics: Pick<Metrics, 'deliveries'>
  /** How long the callback waits for Leaf before answering `pending`. Default 4000. */
  inlineBudgetMs?: number
  /** Lifetime of a grower's delivery lock, renewed while a try runs. Default 10000. */
  lockTtlMs?: number
}

export interface DurableDelivery extends CredentialDelivery {
  /** The 'deliver-credential' job processor for the queue worker. */
  processJob: Processor<DeliveryJobData>
  /** Waits (bounded) for inline tries that outlived their request; tells them to stop retrying. */
  drain(timeoutMs: number): Promise<void>
}

/**
 * The outbox: park first, then deliver. The token response's refresh token is sealed and written to
 * Redis together with its delivery job in one MULTI before Leaf is called, so a process killed one
 * instruction later loses nothing: the job delivers it. The callback then tries inline for
 * `inlineBudgetMs` (inline.ts); a token not delivered by then is `pending`, and the job keeps trying
 * on the durable schedule until Leaf takes it or refuses it (job.ts). Both take the grower's lock
 * (grower-lock.ts) and make each try idempotent (deliver-once.ts).
 */
export function createDurableDelivery(options: DurableDeliveryOptions): DurableDelivery {
  const { leaf, outbox, jobs, webhooks, metrics } = options
  const log = options.logger.child({ module: 'delivery' })
  const cipher = createTokenCipher(options.config.tokenEncryptionKey)
  let stopping = false
  const isStopping = () => stopping
  const lock = createGrowerLock({ outbox, ttlMs: options.lockTtlMs ?? 10_000, log, isStopping })
  const finish = createDeliveryFinish({ outbox, webhooks, registry: options.registry, metrics, log })
  const credentialFor = (refreshToken: string) => ({
    clientId: options.config.raven.clientId,
    clientSecret: options.config.raven.clientSecret,
    refreshToken,
  })
  const inline = createInlinePhase({
    leaf,
    outbox,
    jobs,
    webhooks,
    metrics,
    log,
    cipher,
    lock,
    finish,
    credentialFor,
    budgetMs: options.inlineBudgetMs ?? 4000,
    isStopping,
  })

  return {
    deliver: (request) => inline.deliver(request),
    isPending: (leafUserId) => outbox.isPending(leafUserId),
    cancel: (leafUserId) => outbox.cancel(leafUserId),
    processJob: createDeliveryJobProcessor({ leaf, outbox, log, cipher, lock, finish, credentialFor }),
    async drain(timeoutMs) {
      stopping = true
      await inline.settle(timeoutMs)
    },
  }
}
