import { ROUTES, TARGETS, type Check, type RouteName, type Summary, type TargetName } from './report.js'
import type { RecordedRun, RssGrowth } from './scenarios.js'
import { settings } from './settings.js'
import type { StandInStats } from './stand-ins.js'
import { median } from './stats.js'

/* From the recorded runs to the table's cells and the pass/fail checks. */

/** Each route on each server over all rounds: median req/s, median latency, peak RSS, errors. */
export function summarize(runs: RecordedRun[]): Summary {
  const summary = {} as Summary
  for (const route of ROUTES) {
    summary[route] = {} as Summary[RouteName]
    if (!settings.routes.includes(route)) {
      for (const name of TARGETS) summary[route][name] = { rps: Number.NaN, p50: Number.NaN, p99: Number.NaN, peakRssMb: Number.NaN, redisCommandsPerRequest: Number.NaN, cpuMicrosPerRequest: Number.NaN, errors: 0 }
      continue
    }
    for (const name of TARGETS) {
      const mine = runs.filter((run) => run.route === route && run.target === name)
      const throughput = mine.filter((run) => run.kind === 'throughput').map((run) => run.result)
      const latency = mine.filter((run) => run.kind === 'latency').map((run) => run.result)
      summary[route][name] = {
        rps: median(throughput.map((run) => run.rps)),
        p50: median(latency.map((run) => run.p50)),
        p99: median(latency.map((run) => run.p99)),
        peakRssMb: Math.max(...mine.map((run) => run.result.peakRssMb)),
        redisCommandsPerRequest: median(throughput.map((run) => (run.redisCommands ?? Number.NaN) / run.requests)),
        cpuMicrosPerRequest: median(throughput.map((run) => run.serverCpuMicrosPerRequest ?? Number.NaN)),
        errors: mine.reduce((sum, run) => sum + run.result.errors, 0),
      }
    }
  }
  return summary
}

export interface CheckInputs {
  summary: Summary
  rssGrowth: Partial<Record<TargetName, RssGrowth>>
  upstream: StandInStats
  /** When raven-connect started (ms since the epoch): bounds how often it may authenticate at Leaf. */
  ravenConnectStartedAt: number
}

/** The bench's targets, each measured and marked met or not. */
export function buildChecks({ summary, rssGrowth, upstream, ravenConnectStartedAt }: CheckInputs): Check[] {
  const rc = upstream.callers['raven-connect']
  const rcUptimeSeconds = (Date.now() - ravenConnectStartedAt) / 1000
  // The Leaf client renews shortly before exp: at most every lifetime/2 for these short tokens.
  const renewEvery = Math.max(settings.leafTokenLifetimeSeconds / 2, settings.leafTokenLifetimeSeconds - 60)
  const allowedAuths = Math.ceil(rcUptimeSeconds / renewEvery) + 1

  const launch = summary.launch
  const callback = summary.callback
  const maxRss = (name: TargetName) => Math.max(...settings.routes.map((route) => summary[route][name].peakRssMb), rssGrowth[name as 'baseline']?.peakRssSecondHalfMb ?? 0)
  const rcLaunch = launch['raven-connect']
  const rcCallback = callback['raven-connect']
  return [
    { name: 'launch req/s vs usual stack', target: '≥ 2×', measured: `${(rcLaunch.rps / launch['usual-stack'].rps).toFixed(2)}×`, met: rcLaunch.rps / launch['usual-stack'].rps >= 2 },
    { name: 'callback req/s vs usual stack', target: '≥ 2×', measured: `${(rcCallback.rps / callback['usual-stack'].rps).toFixed(2)}×`, met: rcCallback.rps / callback['usual-stack'].rps >= 2 },
    // Per request, to one decimal: the queue worker's own polling during a run adds a few hundredths.
    { name: 'Redis commands per launch', target: '≤ 4', measured: rcLaunch.redisCommandsPerRequest.toFixed(2), met: oneDecimal(rcLaunch.redisCommandsPerRequest) <= 4 },
    { name: 'Redis commands per callback', target: '≤ 8', measured: rcCallback.redisCommandsPerRequest.toFixed(2), met: oneDecimal(rcCallback.redisCommandsPerRequest) <= 8 },
    { name: 'launch req/s vs baseline', target: '≥ 0.35× (aim 0.5×)', measured: `${(launch['raven-connect'].rps / launch.baseline.rps).toFixed(2)}×`, met: launch['raven-connect'].rps / launch.baseline.rps >= 0.35 },
    { name: 'callback req/s vs baseline', target: '≥ 0.35× (aim 0.5×)', measured: `${(callback['raven-connect'].rps / callback.baseline.rps).toFixed(2)}×`, met: callback['raven-connect'].rps / callback.baseline.rps >= 0.35 },
    { name: `p99 launch @${settings.offeredRate}/s`, target: '< 10 ms', measured: `${launch['raven-connect'].p99.toFixed(2)} ms`, met: launch['raven-connect'].p99 < 10 },
    { name: 'peak RSS vs baseline (whole bench)', target: '≤ 1.2×', measured: `${maxRss('raven-connect').toFixed(0)} MB vs ${maxRss('baseline').toFixed(0)} MB = ${(maxRss('raven-connect') / maxRss('baseline')).toFixed(2)}×`, met: maxRss('raven-connect') / maxRss('baseline') <= 1.2 },
    { name: `RSS growth over ${settings.rssLaunches} launches (peak of 2nd half vs peak of 10–50 %)`, target: '< 10 %', measured: `${rssGrowth['raven-connect']?.growthPercent.toFixed(1)} %`, met: (rssGrowth['raven-connect']?.growthPercent ?? 100) < 10 },
    { name: 'Leaf authentications', target: `≤ ${allowedAuths} (one per renewal of a ${settings.leafTokenLifetimeSeconds} s token over ${rcUptimeSeconds.toFixed(0)} s)`, measured: String(rc?.authentications ?? 0), met: (rc?.authentications ?? 0) >= 1 && (rc?.authentications ?? 0) <= allowedAuths },
    { name: 'upstream keep-alive (requests per TCP connection)', target: 'connections ≪ requests', measured: `${rc?.requests ?? 0} requests on ${rc?.connections ?? 0} connections`, met: (rc?.connections ?? 0) * 20 < (rc?.requests ?? 0) },
    { name: 'Raven discovery fetches', target: '1 per process', measured: String(rc?.discoveries ?? 0), met: rc?.discoveries === 1 },
    { name: 'Leaf 401s (token used after expiry)', target: '0', measured: String(rc?.rejectedTokens ?? 0), met: (rc?.rejectedTokens ?? 0) === 0 },
  ]
}

function oneDecimal(value: number): number {
  return Math.round(value * 10) / 10
}
