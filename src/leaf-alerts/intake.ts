import type { Job } from 'bullmq'

import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'
import { UnrecoverableError, execMulti, type JobQueue } from '../jobs/queue.js'
import type { ConnectionRegistry } from '../registry/registry.js'
import type { Webhooks } from '../webhooks/events.js'
import { CREDENTIAL_ALERTS, classifyAlert, typeLabel, type CredentialAlert } from './alert.js'

/** Where an alert came from: Leaf's POST, the failed-calls recovery, or a later look at an early one. */
export type AlertSource = 'webhook' | 'failed_calls' | 'early_retry'

/** What a `leaf-alert` job carries: the alert as Leaf sent it (no secret is part of an alert). */
export interface EarlyAlertJobData {
  body: unknown
}

export interface AlertIntake {
  /** Handles one parsed alert body; never throws for what Leaf sent, only when Redis fails. */
  handle(body: unknown, source: AlertSource): Promise<string>
  /** The `leaf-alert` job: an alert that named no registered credential, looked at again. */
  processEarlyAlert(job: Job<EarlyAlertJobData>): Promise<string>
}

/**
 * Turns Leaf's credential alerts into connection health and `connection.broken` webhooks. The
 * registry's script decides (one atomic step per alert), so Leaf's retries, failed-calls replays and
 * one alert reaching several instances at once change health once and tell the host once: the
 * webhook's id is derived from the alert, and the queue keeps one job per id.
 */
export function createAlertIntake(deps: {
  registry: ConnectionRegistry
  webhooks: Webhooks
  jobs: JobQueue
  metrics: Pick<Metrics, 'leafAlerts'>
  logger: Logger
}): AlertIntake {
  const { registry, webhooks, jobs, metrics } = deps
  const log = deps.logger.child({ module: 'leaf-alerts' })

  async function tellHost(alert: CredentialAlert, leafUserId: string): Promise<void> {
    const redis = await registry.client()
    const multi = redis.multi()
    const health = CREDENTIAL_ALERTS[alert.type]
    await webhooks.addToMulti(
      multi,
      'connection.broken',
      leafUserId,
      { reason: health, credentialId: alert.credentialId, leafStatus: alert.status },
      `evt_broken_${alert.key}`,
    )
    registry.clearNotifyInMulti(multi, leafUserId, alert.key)
    await execMulti(multi, 'leaf alerts')
  }

  /** An alert for a credential not registered yet may be early: its delivery can still be finishing. */
  async function lookAgainLater(body: unknown, alert: CredentialAlert): Promise<void> {
    const multi = (await registry.client()).multi()
    await jobs.addToMulti(multi, 'leaf-alert', { body }, { jobId: `early_${alert.key}`, delay: 2_000 })
    await execMulti(multi, 'leaf alerts')
  }

  async function handleCredentialAlert(body: unknown, alert: CredentialAlert, source: AlertSource): Promise<string> {
    const verdict = await registry.applyAlert({
      credentialId: alert.credentialId,
      health: CREDENTIAL_ALERTS[alert.type],
      at: alert.at,
      leafStatus: alert.status,
      alertKey: alert.key,
    })
    if (verdict.outcome === 'applied' || verdict.outcome === 'notify') {
      await tellHost(alert, verdict.leafUserId)
      if (verdict.outcome === 'applied') {
        log.info({ leafUserId: verdict.leafUserId, credentialId: alert.credentialId, type: alert.type, source }, 'connection broken: Leaf alert applied')
      }
      return 'applied'
    }
    if (verdict.outcome === 'unknown' && source !== 'early_retry') {
      await lookAgainLater(body, alert)
      return 'deferred'
    }
    return verdict.outcome
  }

  async function decide(body: unknown, source: AlertSource): Promise<{ type: string; outcome: string }> {
    const classified = classifyAlert(body)
    let outcome: string
    switch (classified.kind) {
      case 'confirmation':
        log.info({ source }, 'Leaf confirmed the alerts webhook registration')
        outcome = 'confirmed'
        break
      case 'credential':
        outcome = await handleCredentialAlert(body, classified.alert, source)
        break
      case 'other_provider':
        outcome = 'other_provider'
        break
      case 'invalid':
        log.warn({ source, type: typeLabel(classified) }, 'Leaf alert without the fields a credential alert needs; ignored')
        outcome = 'invalid'
        break
      default:
        outcome = 'ignored'
    }
    return { type: typeLabel(classified), outcome }
  }

  return {
    async handle(body, source) {
      const { type, outcome } = await decide(body, source)
      // An early alert counts once, when its fate is known (applied, or unknown after the last look).
      if (outcome !== 'deferred') metrics.leafAlerts.inc({ type, outcome })
      return outcome
    },
    async processEarlyAlert(job) {
      const { type, outcome } = await decide(job.data.body, 'early_retry')
      const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
      if (outcome === 'unknown' && !lastTry) throw new Error('credential not registered yet')
      metrics.leafAlerts.inc({ type, outcome })
      if (outcome === 'unknown') throw new UnrecoverableError('credential unknown: not one this service created')
      return outcome
    },
  }
}
