import { drive, type RunResult } from './load.js'
import { TARGETS, type RouteName, type TargetName } from './report.js'
import { cleanRedis, describeRun, latencyRun, prepare, throughputRun, type BenchRedis } from './runs.js'
import { checkDeadline, log, settings } from './settings.js'
import type { Target } from './targets.js'

/* The bench's three scenarios, in the order they run: warm-up, measured rounds, RSS growth. */

type Targets = Record<TargetName, Target>
/** Each server's last throughput per route: sizes the next run to last about `secondsPerRun`. */
export type Estimate = Record<RouteName, Record<TargetName, number>>

export interface RecordedRun {
  round: number
  route: RouteName
  target: TargetName
  kind: 'throughput' | 'latency'
  result: RunResult
}

export interface RssGrowth {
  launches: number
  seconds: number
  rpsAverage: number
  peakRssWarmToHalfMb: number
  peakRssSecondHalfMb: number
  rssEndMb: number
  growthPercent: number
  errors: number
}

/** Warm-up (JIT, connection pools) and a first estimate of each server's rate, not reported. */
export async function warmUp(targets: Targets, redis: BenchRedis): Promise<Estimate> {
  const estimate = {} as Estimate
  for (const route of settings.routes) {
    estimate[route] = {} as Record<TargetName, number>
    for (const name of TARGETS) {
      checkDeadline()
      const run = await throughputRun(route, targets[name], redis, 2000)
      estimate[route][name] = run.rps
      log(`warm-up ${route} ${name}: ${describeRun(run)}`)
    }
  }
  return estimate
}

/** Each round: per route and server, a throughput run and then a latency run. Updates `estimate`. */
export async function runRounds(targets: Targets, redis: BenchRedis, estimate: Estimate): Promise<RecordedRun[]> {
  const runs: RecordedRun[] = []
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const route of settings.routes) {
      // Alternate the order each round so no server always runs first (warmer, cooler machine).
      const order = round % 2 === 1 ? [...TARGETS] : [...TARGETS].reverse()
      for (const name of order) {
        checkDeadline()
        const amount = Math.max(1000, Math.min(80_000, Math.round(estimate[route][name] * settings.secondsPerRun)))
        const throughput = await throughputRun(route, targets[name], redis, amount)
        estimate[route][name] = throughput.rps
        log(`round ${round} ${route} ${name} throughput: ${describeRun(throughput)}`)
        runs.push({ round, route, target: name, kind: 'throughput', result: throughput })
        const latency = await latencyRun(route, targets[name], redis)
        log(`round ${round} ${route} ${name} @${settings.offeredRate}/s: ${describeRun(latency)}`)
        runs.push({ round, route, target: name, kind: 'latency', result: latency })
      }
    }
  }
  return runs
}

/** RSS across many launches: flat after warm-up, and compared with the baseline's. */
export async function measureRssGrowth(targets: Targets, redis: BenchRedis): Promise<Partial<Record<TargetName, RssGrowth>>> {
  const rssGrowth: Partial<Record<TargetName, RssGrowth>> = {}
  for (const name of ['raven-connect', 'baseline'] as const) {
    checkDeadline()
    await cleanRedis(redis.client)
    const prepared = await prepare('launch', targets[name], redis.client, settings.rssLaunches)
    const run = await drive({ url: targets[name].url, connections: settings.connections, amount: settings.rssLaunches, pid: targets[name].pid, trace: true, ...prepared })
    const growth = growthOf(run)
    rssGrowth[name] = growth
    log(`${run.requests} launches on ${name}: peak RSS ${growth.peakRssWarmToHalfMb.toFixed(0)} MB from 10 % to 50 %, ${growth.peakRssSecondHalfMb.toFixed(0)} MB from 50 % to 100 % (${growth.growthPercent.toFixed(1)} %), ${run.errors} errors`)
  }
  return rssGrowth
}

/**
 * RSS saws up and down with garbage collection; a leak shows as rising peaks. So: the peak of the
 * second half of the run against the peak between warm-up (10 %) and half-way.
 */
function growthOf(run: RunResult): RssGrowth {
  const trace = run.trace ?? []
  const warm = trace.find((point) => point.done >= settings.rssLaunches * 0.1) ?? trace[0]
  const firstHalf = trace.filter((point) => point.done >= (warm?.done ?? 0) && point.done < settings.rssLaunches / 2)
  const after = trace.filter((point) => point.done >= settings.rssLaunches / 2)
  const peakAfter = Math.max(...after.map((point) => point.rssMb))
  const atWarm = Math.max(...firstHalf.map((point) => point.rssMb))
  return {
    launches: run.requests,
    seconds: run.seconds,
    rpsAverage: run.rps,
    peakRssWarmToHalfMb: atWarm,
    peakRssSecondHalfMb: peakAfter,
    rssEndMb: trace.at(-1)?.rssMb ?? Number.NaN,
    growthPercent: ((peakAfter - atWarm) / atWarm) * 100,
    errors: run.errors,
  }
}
