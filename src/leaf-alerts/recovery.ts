import { randomUUID } from 'node:crypto'

import type { Logger } from '../infra/logger.js'
import type { Redis } from '../infra/redis.js'
import type { LeafClient } from '../leaf/client.js'
import type { AlertIntake } from './intake.js'

export const RECOVERY_INTERVAL_MS = 60 * 60_000

const RELEASE_IF_OWNER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

export interface FailedCallsRecovery {
  /** Runs once now (if no other instance holds the run), then every hour; stop() ends it. */
  start(): void
  stop(): Promise<void>
  /** One run, whatever the locks say: how many failed calls were read and how each ended. */
  runOnce(): Promise<{ read: number; outcomes: Record<string, number> }>
}

/**
 * Alerts Leaf could not deliver (the service was down, a deploy, a network fault) are not lost: Leaf
 * lists them at `GET /webhooks/failed-calls`, and this reads that list at start and every hour and
 * hands each alert to the intake exactly as if it had arrived, so the same de-duplication applies.
 * One instance a round: the hourly run takes a Redis lock for most of an hour; the run at start holds
 * its lock only while it reads, so instances starting together read the list once, and an instance
 * that starts later (a restart after an outage) reads it again: replays change nothing twice.
 */
export function createFailedCallsRecovery(deps: {
  leaf: LeafClient
  intake: AlertIntake
  client: () => Promise<Redis>
  lockKey: string
  logger: Logger
  intervalMs?: number
}): FailedCallsRecovery {
  const log = deps.logger.child({ module: 'leaf-alerts-recovery' })
  const intervalMs = deps.intervalMs ?? RECOVERY_INTERVAL_MS
  const owner = randomUUID()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> = Promise.resolve()

  async function claim(suffix: string, ttlMs: number): Promise<boolean> {
    const redis = await deps.client()
    return (await redis.set(`${deps.lockKey}:${suffix}`, owner, 'PX', ttlMs, 'NX')) === 'OK'
  }

  async function runOnce() {
    const calls = await deps.leaf.listFailedAlertCalls()
    const outcomes: Record<string, number> = {}
    for (const call of calls) {
      let body: unknown
      try {
        body = JSON.parse(call.requestBody ?? '')
      } catch {
        outcomes.unreadable = (outcomes.unreadable ?? 0) + 1
        continue
      }
      const outcome = await deps.intake.handle(body, 'failed_calls')
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    }
    if (calls.length > 0) log.info({ read: calls.length, outcomes }, 'failed Leaf alert calls handled')
    return { read: calls.length, outcomes }
  }

  async function release(suffix: string): Promise<void> {
    const redis = await deps.client()
    await redis.eval(RELEASE_IF_OWNER, 1, `${deps.lockKey}:${suffix}`, owner)
  }

  function guarded(suffix: string, ttlMs: number, releaseAfter: boolean): void {
    running = running
      .then(async () => {
        if (!(await claim(suffix, ttlMs))) return
        try {
          await runOnce()
        } finally {
          if (releaseAfter) await release(suffix)
        }
      })
      .catch((err: unknown) => log.warn({ err }, 'failed-calls recovery did not complete; the next round tries again'))
  }

  return {
    runOnce,
    start() {
      if (timer) return
      guarded('start', 5 * 60_000, true)
      // Most of the interval: one instance per round, and a crashed holder frees it before the next.
      timer = setInterval(() => guarded('hourly', Math.floor(intervalMs * 0.9), false), intervalMs)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      await running
    },
  }
}
