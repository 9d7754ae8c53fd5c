import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'

import { Redis } from 'ioredis'

import { startRedisServer, type ThrowawayRedis } from '../sandboxes/redis/throwaway-redis.js'
import type { TargetName } from './report.js'
import { gitCommit, saveAndPrint } from './results.js'
import { cleanRedis, type BenchRedis } from './runs.js'
import { measureRssGrowth, runRounds, warmUp } from './scenarios.js'
import { ROOT, log, settings } from './settings.js'
import { startStandInProcess, type StandInProcess } from './stand-in-process.js'
import type { StandInStats } from './stand-ins.js'
import { startTargets } from './start-targets.js'
import { buildChecks, summarize } from './summary.js'
import type { Target } from './targets.js'

/*
 * npm run bench: raven-connect (the built service, production middleware on) beside a bare
 * node:http + ioredis baseline and an Express "usual stack", on loopback, against in-memory stand-ins
 * for Raven and Leaf. Alternating rounds of fixed-concurrency runs (throughput) and fixed-rate runs
 * (latency), then 100 000 launches for RSS growth, then the upstream counters. Bounded: every run has
 * a fixed request count, and the whole bench stops at BENCH_DEADLINE_SECONDS.
 *
 * The steps: settings.ts (BENCH_* and the log), stand-in-process.ts, start-targets.ts, scenarios.ts
 * (warm-up, rounds, RSS growth; one run in runs.ts), summary.ts (cells and checks), results.ts.
 */

// Other work on the machine skews every number: the load average before and after goes in the results.
const loadBefore = loadavg()
const commit = gitCommit()

/** What has been started so far, so that an interrupted or failed bench stops exactly that. */
interface Started {
  redisServer?: ThrowawayRedis
  redis?: Redis
  standIns?: StandInProcess
  targets?: Record<TargetName, Target>
}

async function stopAll(started: Started): Promise<void> {
  for (const target of Object.values(started.targets ?? {})) await target.stop().catch(() => undefined)
  if (started.standIns) await started.standIns.ask('close').catch(() => undefined)
  started.redis?.disconnect()
  await started.redisServer?.stop()
}

async function main(): Promise<void> {
  if (!existsSync(`${ROOT}dist/main.js`)) throw new Error('dist/main.js is missing: run npm run build first (npm run bench does)')
  const started: Started = {}
  process.once('SIGINT', () => void stopAll(started).then(() => process.exit(130)))
  try {
    const redisServer = (started.redisServer = await startRedisServer())
    const redis: BenchRedis = { client: (started.redis = new Redis(redisServer.url)), pid: redisServer.process.pid ?? 0 }
    const standIns = (started.standIns = await startStandInProcess())
    const { targets, idleRssMb } = await startTargets(standIns, redisServer.url)
    started.targets = targets
    log(`settings ${JSON.stringify(settings)}`)

    const estimate = await warmUp(targets, redis)
    const runs = await runRounds(targets, redis, estimate)
    const summary = summarize(runs)
    const rssGrowth = await measureRssGrowth(targets, redis)
    await cleanRedis(redis.client)

    const upstream = (await standIns.ask('stats')) as StandInStats
    const checks = buildChecks({ summary, rssGrowth, upstream, ravenConnectStartedAt: targets['raven-connect'].startedAt })
    saveAndPrint({ summary, checks, rssGrowth, upstream, runs, idleRssMb, serverPinnedToCore1: targets['raven-connect'].pinned, loadBefore, commit })
  } finally {
    await stopAll(started)
  }
}

await main()
