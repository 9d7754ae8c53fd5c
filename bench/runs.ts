import type { Redis } from 'ioredis'

import { cpuSeconds, drive, pace, prepareFlows, prepareTokens, type BenchRequest, type RunResult } from './load.js'
import type { RouteName } from './report.js'
import { RETURN_TO, secrets, settings } from './settings.js'
import { LINKED_USER_PREFIX } from './stand-ins.js'
import type { Target } from './targets.js'

/* One run of one route on one server: clean Redis, prepare the requests, drive them, measure. */

/** The Redis every server shares, and its process (for its CPU share). */
export interface BenchRedis {
  client: Redis
  pid: number
}

/**
 * Deletes what earlier runs left (sessions, tokens, claims, rate-limit counters) so each run starts
 * from the same Redis. Not FLUSHDB: raven-connect's job queue (rc:{jobs}…) must keep its keys.
 */
export async function cleanRedis(redis: Redis): Promise<void> {
  for (const pattern of ['rc:sess:*', 'rc:cs:*', 'rc:state:*', 'rc:rl:*', 'bl:*', 'us:*']) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  }
}

export interface Prepared {
  next: () => BenchRequest
  expectStatus: number
}

/** Builds `count` requests for a route: tokens for launches, fresh flows for callbacks. */
export async function prepare(route: RouteName, target: Target, redis: Redis, count: number): Promise<Prepared> {
  const auth = { authorization: `Bearer ${secrets.apiKey}` }
  if (route === 'launch') {
    const tokens = await prepareTokens(redis, count, RETURN_TO)
    let i = 0
    return { expectStatus: 303, next: () => ({ method: 'GET', path: `/connect/raven?session=${tokens[Math.min(i++, tokens.length - 1)]}` }) }
  }
  if (route === 'callback') {
    const flows = await prepareFlows(target.url, await prepareTokens(redis, count, RETURN_TO))
    let i = 0
    return {
      expectStatus: 303,
      next: () => {
        const flow = flows[Math.min(i++, flows.length - 1)]!
        // The Raven stand-in accepts any code; the nonce rides in it so the ID token can carry it.
        return { method: 'GET', path: `/connect/raven/callback?code=bench.${flow.nonce}&state=${encodeURIComponent(flow.state)}`, headers: { cookie: flow.cookie } }
      },
    }
  }
  if (route === 'connect-session') {
    const body = JSON.stringify({ leafUserId: 'grower-1', returnTo: RETURN_TO })
    return { expectStatus: 201, next: () => ({ method: 'POST', path: '/v1/connect-sessions', headers: { ...auth, 'content-type': 'application/json' }, body }) }
  }
  return { expectStatus: 200, next: () => ({ method: 'GET', path: `/v1/users/${LINKED_USER_PREFIX}1/raven-connection`, headers: auth }) }
}

/** Fixed concurrency, a fixed number of requests sized to last about `secondsPerRun`. */
export async function throughputRun(route: RouteName, target: Target, redis: BenchRedis, amount: number): Promise<RunResult> {
  await cleanRedis(redis.client)
  const prepared = await prepare(route, target, redis.client, amount)
  const before = await redisCommands(redis.client)
  const redisCpuBefore = cpuSeconds(redis.pid)
  const startedAt = performance.now()
  const run = await drive({ url: target.url, connections: settings.connections, amount, pid: target.pid, ...prepared })
  // Redis's own CPU share during the run: near 100 % means Redis, not the server, is the limit.
  const redisCpuPercent = ((cpuSeconds(redis.pid) - redisCpuBefore) / ((performance.now() - startedAt) / 1000)) * 100
  // Redis work per request: where a server's cost goes once it is not its own CPU (and what limits
  // scale-out). Commands run inside Lua scripts and MULTI count one by one.
  const after = await redisCommands(redis.client)
  const byCommand: Record<string, number> = {}
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0)
    if (delta > 0) byCommand[name] = delta
  }
  const redisCommandsTotal = Object.values(byCommand).reduce((sum, calls) => sum + calls, 0)
  return { ...run, redisCommands: redisCommandsTotal, redisCommandsByName: byCommand, redisCpuPercent }
}

async function redisCommands(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats')
  const calls: Record<string, number> = {}
  for (const match of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls[match[1] as string] = Number(match[2])
  return calls
}

/** Fixed offered rate: latency without saturation. */
export async function latencyRun(route: RouteName, target: Target, redis: BenchRedis): Promise<RunResult> {
  await cleanRedis(redis.client)
  const amount = settings.offeredRate * settings.latencySeconds
  const prepared = await prepare(route, target, redis.client, amount)
  return pace({ url: target.url, rate: settings.offeredRate, amount, pid: target.pid, ...prepared })
}

/** One progress line for a run. */
export function describeRun(run: RunResult): string {
  const errors = run.errors > 0 ? ` ERRORS=${run.errors} ${JSON.stringify(run.statuses)}` : ''
  const commands = run.redisCommands === undefined ? '' : `, ${(run.redisCommands / run.requests).toFixed(1)} Redis commands/request`
  const cpu = run.serverCpuPercent === undefined ? '' : `, server CPU ${run.serverCpuPercent.toFixed(0)} % (${(run.serverCpuMicrosPerRequest ?? Number.NaN).toFixed(0)} µs/request)`
  const redisCpu = run.redisCpuPercent === undefined ? '' : `, Redis CPU ${run.redisCpuPercent.toFixed(0)} %`
  return `${run.rps.toFixed(0)} req/s${commands}${cpu}${redisCpu}, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, RSS ${run.peakRssMb.toFixed(0)} MB${errors}`
}
