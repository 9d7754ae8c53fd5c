import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

import { freePort, startRedisServer, type ThrowawayRedis } from '../sandboxes/redis/throwaway-redis.js'
import { cpuSeconds, drive, pace, prepareFlows, prepareTokens, rssMb, type BenchRequest, type RunResult } from './load.js'
import { ROUTES, TARGETS, formatChecks, formatTable, type Check, type RouteName, type Summary, type TargetName } from './report.js'
import { BENCH_CLIENT_ID, LINKED_USER_PREFIX, type StandInStats } from './stand-ins.js'
import { median } from './stats.js'
import { startTarget, type Target } from './targets.js'

/*
 * npm run bench: raven-connect (the built service, production middleware on) beside a bare
 * node:http + ioredis baseline and an Express "usual stack", on loopback, against in-memory stand-ins
 * for Raven and Leaf. Alternating rounds of fixed-concurrency runs (throughput) and fixed-rate runs
 * (latency), then 100 000 launches for RSS growth, then the upstream counters. Bounded: every run has
 * a fixed request count, and the whole bench stops at BENCH_DEADLINE_SECONDS.
 */
const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? '2'),
  secondsPerRun: Number(process.env.BENCH_SECONDS ?? '4'),
  connections: Number(process.env.BENCH_CONNECTIONS ?? '32'),
  offeredRate: Number(process.env.BENCH_RATE ?? '300'),
  latencySeconds: Number(process.env.BENCH_LATENCY_SECONDS ?? '3'),
  rssLaunches: Number(process.env.BENCH_RSS_LAUNCHES ?? '100000'),
  leafTokenLifetimeSeconds: Number(process.env.BENCH_LEAF_TOKEN_LIFETIME_SECONDS ?? '60'),
  deadlineSeconds: Number(process.env.BENCH_DEADLINE_SECONDS ?? '900'),
  rateLimitPerMinute: 1_000_000,
  /** Comma-separated subset of routes, for quicker looks (the table then has gaps). */
  routes: (process.env.BENCH_ROUTES ?? ROUTES.join(',')).split(',').filter((route): route is RouteName => (ROUTES as readonly string[]).includes(route)),
  /** Write a V8 CPU profile of raven-connect to dist/bench/profiles/ (node --cpu-prof). */
  profile: process.env.BENCH_PROFILE === '1',
}
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const HERE = fileURLToPath(new URL('./', import.meta.url))
const RETURN_ORIGIN = 'http://127.0.0.1:9'
const RETURN_TO = `${RETURN_ORIGIN}/done`
const secrets = { apiKey: 'bench_' + randomBytes(18).toString('base64url'), session: randomBytes(24).toString('base64url'), client: randomBytes(18).toString('base64url') }
const started = Date.now()
const idleRssMb = {} as Record<TargetName, number>
let redisPid = 0
// Other work on the machine skews every number: the load average before and after goes in the results.
const loadBefore = loadavg()

function log(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`)
}

function checkDeadline(): void {
  if ((Date.now() - started) / 1000 > settings.deadlineSeconds) throw new Error(`bench deadline of ${settings.deadlineSeconds} s passed`)
}

interface StandInProcess {
  ravenIssuer: string
  leafUrl: string
  ask(type: 'stats' | 'reset' | 'close'): Promise<unknown>
  child: ChildProcess
}

async function startStandInProcess(): Promise<StandInProcess> {
  const child = fork(`${HERE}stand-ins-main.js`, [], {
    env: { ...process.env, BENCH_LEAF_TOKEN_LIFETIME_SECONDS: String(settings.leafTokenLifetimeSeconds) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, (value: unknown) => void>()
  let nextId = 1
  const ready = new Promise<{ ravenIssuer: string; leafUrl: string }>((resolve) => waiting.set(0, resolve as (value: unknown) => void))
  child.on('message', (message: { id: number; value: unknown }) => {
    waiting.get(message.id)?.(message.value)
    waiting.delete(message.id)
  })
  const urls = await ready
  return {
    ...urls,
    child,
    ask: (type) =>
      new Promise((resolve) => {
        const id = nextId++
        waiting.set(id, resolve)
        child.send({ id, type })
      }),
  }
}

function serviceEnv(port: number, standIns: StandInProcess, redisUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    REDIS_URL: redisUrl,
    SESSION_SECRET: secrets.session,
    API_KEYS: secrets.apiKey,
    RETURN_TO_ORIGINS: RETURN_ORIGIN,
    RAVEN_ISSUER: standIns.ravenIssuer,
    RAVEN_AUTHORIZATION_ENDPOINT: `${standIns.ravenIssuer}/authorize`,
    RAVEN_TOKEN_ENDPOINT: `${standIns.ravenIssuer}/token`,
    RAVEN_CLIENT_ID: BENCH_CLIENT_ID,
    RAVEN_CLIENT_SECRET: secrets.client,
    LEAF_API_URL: standIns.leafUrl,
    LEAF_USERNAME: 'bench-owner',
    LEAF_PASSWORD: 'bench-password',
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_PER_MINUTE: String(settings.rateLimitPerMinute),
  }
}

async function startTargets(standIns: StandInProcess, redisUrl: string): Promise<Record<TargetName, Target>> {
  const entries: Record<TargetName, { entry: string; ready: string }> = {
    'raven-connect': { entry: `${ROOT}dist/main.js`, ready: '/readyz' },
    baseline: { entry: `${HERE}baseline-server.js`, ready: '/healthz' },
    'usual-stack': { entry: `${HERE}usual-stack-server.js`, ready: '/healthz' },
  }
  const targets = {} as Record<TargetName, Target>
  for (const name of TARGETS) {
    const port = await freePort()
    const env = serviceEnv(port, standIns, redisUrl)
    // raven-connect discovers its endpoints (RAVEN_ISSUER); the others are given them.
    if (name === 'raven-connect') {
      delete (env as Partial<typeof env>).RAVEN_AUTHORIZATION_ENDPOINT
      delete (env as Partial<typeof env>).RAVEN_TOKEN_ENDPOINT
    }
    const nodeArgs = name === 'raven-connect' && settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${ROOT}dist/bench/profiles`] : []
    targets[name] = await startTarget(name, entries[name].entry, env, `http://127.0.0.1:${port}`, entries[name].ready, nodeArgs)
    idleRssMb[name] = rssMb(targets[name].pid)
    log(`${name} listening on port ${port} (pid ${targets[name].pid}${targets[name].pinned ? ', pinned to core 1' : ''}), idle RSS ${idleRssMb[name].toFixed(0)} MB`)
  }
  return targets
}

/**
 * Deletes what earlier runs left (sessions, tokens, claims, rate-limit counters) so each run starts
 * from the same Redis. Not FLUSHDB: raven-connect's job queue (rc:{jobs}…) must keep its keys.
 */
async function cleanRedis(redis: Redis): Promise<void> {
  for (const pattern of ['rc:sess:*', 'rc:cs:*', 'rc:state:*', 'rc:rl:*', 'bl:*', 'us:*']) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  }
}

interface Prepared {
  next: () => BenchRequest
  expectStatus: number
}

/** Builds `count` requests for a route: tokens for launches, fresh flows for callbacks. */
async function prepare(route: RouteName, target: Target, redis: Redis, count: number): Promise<Prepared> {
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
async function throughputRun(route: RouteName, target: Target, redis: Redis, amount: number): Promise<RunResult> {
  await cleanRedis(redis)
  const prepared = await prepare(route, target, redis, amount)
  const before = await redisCommands(redis)
  const redisCpuBefore = cpuSeconds(redisPid)
  const startedAt = performance.now()
  const run = await drive({ url: target.url, connections: settings.connections, amount, pid: target.pid, ...prepared })
  // Redis's own CPU share during the run: near 100 % means Redis, not the server, is the limit.
  const redisCpuPercent = ((cpuSeconds(redisPid) - redisCpuBefore) / ((performance.now() - startedAt) / 1000)) * 100
  // Redis work per request: where a server's cost goes once it is not its own CPU (and what limits
  // scale-out). Commands run inside Lua scripts and MULTI count one by one.
  const after = await redisCommands(redis)
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
async function latencyRun(route: RouteName, target: Target, redis: Redis): Promise<RunResult> {
  await cleanRedis(redis)
  const amount = settings.offeredRate * settings.latencySeconds
  const prepared = await prepare(route, target, redis, amount)
  return pace({ url: target.url, rate: settings.offeredRate, amount, pid: target.pid, ...prepared })
}

function describe(run: RunResult): string {
  const errors = run.errors > 0 ? ` ERRORS=${run.errors} ${JSON.stringify(run.statuses)}` : ''
  const commands = run.redisCommands === undefined ? '' : `, ${(run.redisCommands / run.requests).toFixed(1)} Redis commands/request`
  const cpu = run.serverCpuPercent === undefined ? '' : `, server CPU ${run.serverCpuPercent.toFixed(0)} %`
  const redisCpu = run.redisCpuPercent === undefined ? '' : `, Redis CPU ${run.redisCpuPercent.toFixed(0)} %`
  return `${run.rps.toFixed(0)} req/s${commands}${cpu}${redisCpu}, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, RSS ${run.peakRssMb.toFixed(0)} MB${errors}`
}

async function main(): Promise<void> {
  if (!existsSync(`${ROOT}dist/main.js`)) throw new Error('dist/main.js is missing: run npm run build first (npm run bench does)')
  let redisServer: ThrowawayRedis | undefined
  let standIns: StandInProcess | undefined
  let targets: Record<TargetName, Target> | undefined
  let redis: Redis | undefined
  const stop = async () => {
    for (const target of Object.values(targets ?? {})) await target.stop().catch(() => undefined)
    if (standIns) await standIns.ask('close').catch(() => undefined)
    redis?.disconnect()
    await redisServer?.stop()
  }
  process.once('SIGINT', () => void stop().then(() => process.exit(130)))
  try {
    redisServer = await startRedisServer()
    redisPid = redisServer.process.pid ?? 0
    redis = new Redis(redisServer.url)
    standIns = await startStandInProcess()
    targets = await startTargets(standIns, redisServer.url)
    log(`settings ${JSON.stringify(settings)}`)

    // Warm-up (JIT, connection pools) and a first estimate of each server's rate, not reported.
    const estimate = {} as Record<RouteName, Record<TargetName, number>>
    for (const route of settings.routes) {
      estimate[route] = {} as Record<TargetName, number>
      for (const name of TARGETS) {
        checkDeadline()
        const run = await throughputRun(route, targets[name], redis, 2000)
        estimate[route][name] = run.rps
        log(`warm-up ${route} ${name}: ${describe(run)}`)
      }
    }

    const runs: { round: number; route: RouteName; target: TargetName; kind: 'throughput' | 'latency'; result: RunResult }[] = []
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const route of settings.routes) {
        // Alternate the order each round so no server always runs first (warmer, cooler machine).
        const order = round % 2 === 1 ? [...TARGETS] : [...TARGETS].reverse()
        for (const name of order) {
          checkDeadline()
          const amount = Math.max(1000, Math.min(80_000, Math.round(estimate[route][name] * settings.secondsPerRun)))
          const throughput = await throughputRun(route, targets[name], redis, amount)
          estimate[route][name] = throughput.rps
          log(`round ${round} ${route} ${name} throughput: ${describe(throughput)}`)
          runs.push({ round, route, target: name, kind: 'throughput', result: throughput })
          const latency = await latencyRun(route, targets[name], redis)
          log(`round ${round} ${route} ${name} @${settings.offeredRate}/s: ${describe(latency)}`)
          runs.push({ round, route, target: name, kind: 'latency', result: latency })
        }
      }
    }

    const summary = {} as Summary
    for (const route of ROUTES) {
      summary[route] = {} as Summary[RouteName]
      if (!settings.routes.includes(route)) {
        for (const name of TARGETS) summary[route][name] = { rps: Number.NaN, p50: Number.NaN, p99: Number.NaN, peakRssMb: Number.NaN, redisCommandsPerRequest: Number.NaN, errors: 0 }
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
          errors: mine.reduce((sum, run) => sum + run.result.errors, 0),
        }
      }
    }

    // RSS across many launches: flat after warm-up, and compared with the baseline's.
    const rssGrowth: Partial<Record<TargetName, { launches: number; seconds: number; rpsAverage: number; peakRssWarmToHalfMb: number; peakRssSecondHalfMb: number; rssEndMb: number; growthPercent: number; errors: number }>> = {}
    for (const name of ['raven-connect', 'baseline'] as const) {
      checkDeadline()
      await cleanRedis(redis)
      const prepared = await prepare('launch', targets[name], redis, settings.rssLaunches)
      const run = await drive({ url: targets[name].url, connections: settings.connections, amount: settings.rssLaunches, pid: targets[name].pid, trace: true, ...prepared })
      const trace = run.trace ?? []
      // RSS saws up and down with garbage collection; a leak shows as rising peaks. So: the peak of the
      // second half of the run against the peak between warm-up (10 %) and half-way.
      const warm = trace.find((point) => point.done >= settings.rssLaunches * 0.1) ?? trace[0]
      const firstHalf = trace.filter((point) => point.done >= (warm?.done ?? 0) && point.done < settings.rssLaunches / 2)
      const after = trace.filter((point) => point.done >= settings.rssLaunches / 2)
      const peakAfter = Math.max(...after.map((point) => point.rssMb))
      const atWarm = Math.max(...firstHalf.map((point) => point.rssMb))
      rssGrowth[name] = {
        launches: run.requests,
        seconds: run.seconds,
        rpsAverage: run.rps,
        peakRssWarmToHalfMb: atWarm,
        peakRssSecondHalfMb: peakAfter,
        rssEndMb: trace.at(-1)?.rssMb ?? Number.NaN,
        growthPercent: ((peakAfter - atWarm) / atWarm) * 100,
        errors: run.errors,
      }
      log(`${run.requests} launches on ${name}: peak RSS ${atWarm.toFixed(0)} MB from 10 % to 50 %, ${peakAfter.toFixed(0)} MB from 50 % to 100 % (${rssGrowth[name]?.growthPercent.toFixed(1)} %), ${run.errors} errors`)
    }
    await cleanRedis(redis)

    const upstream = (await standIns.ask('stats')) as StandInStats
    const rc = upstream.callers['raven-connect']
    const rcUptimeSeconds = (Date.now() - targets['raven-connect'].startedAt) / 1000
    // The Leaf client renews shortly before exp: at most every lifetime/2 for these short tokens.
    const renewEvery = Math.max(settings.leafTokenLifetimeSeconds / 2, settings.leafTokenLifetimeSeconds - 60)
    const allowedAuths = Math.ceil(rcUptimeSeconds / renewEvery) + 1

    const launch = summary.launch
    const callback = summary.callback
    const maxRss = (name: TargetName) => Math.max(...settings.routes.map((route) => summary[route][name].peakRssMb), rssGrowth[name as 'baseline']?.peakRssSecondHalfMb ?? 0)
    const checks: Check[] = [
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

    const table = formatTable(summary, settings.offeredRate)
    const checksTable = formatChecks(checks)
    const commit = gitCommit()
    const result = {
      when: new Date().toISOString(),
      commit,
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, serverPinnedToCore1: targets['raven-connect'].pinned, loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
      settings,
      idleRssMb,
      summary,
      checks,
      rssGrowth,
      upstream,
      runs: runs.map(({ result: run, ...rest }) => ({ ...rest, ...run, trace: undefined })),
    }
    mkdirSync(`${ROOT}bench/results`, { recursive: true })
    const file = `${ROOT}bench/results/bench-${result.when.replace(/[:.]/g, '-')}-${commit}.json`
    writeFileSync(file, JSON.stringify(result, null, 2))

    process.stdout.write(`\n${table}\n\n${checksTable}\n\n`)
    process.stdout.write(`Upstream counters: ${JSON.stringify(upstream.callers)}\n`)
    process.stdout.write(`RSS growth: ${JSON.stringify(rssGrowth)}\n`)
    process.stdout.write(`Load average (1/5/15 min) before ${loadBefore.map((v) => v.toFixed(1)).join(' ')}, after ${loadavg().map((v) => v.toFixed(1)).join(' ')}; idle RSS ${JSON.stringify(idleRssMb)}\n`)
    process.stdout.write(`Results: ${file}\n`)
  } finally {
    await stop()
  }
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha}-dirty` : sha
  } catch {
    return 'unknown'
  }
}

await main()
