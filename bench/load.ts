import { createHash, randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { readFileSync } from 'node:fs'

import autocannon from 'autocannon'
import type { Redis } from 'ioredis'

import { percentile } from './stats.js'

/** One request of a run: built fresh per request, so every launch spends its own token. */
export interface BenchRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface DriveOptions {
  url: string
  connections: number
  /** Stop after this many requests (throughput runs: sized to the prepared tokens/flows). */
  amount?: number
  /** Or stop after this many seconds. */
  durationSeconds?: number
  /** Fixed offered load, requests per second over all connections (latency runs). */
  overallRate?: number
  next: () => BenchRequest
  /** The status every answer must have; anything else is counted as an error. */
  expectStatus: number
  /** Server process whose RSS is sampled every 100 ms during the run. */
  pid: number
  /** Also keep (requests done, RSS) every 100 ms: the RSS-growth run. */
  trace?: boolean
}

export interface RunResult {
  requests: number
  errors: number
  statuses: Record<string, number>
  seconds: number
  rps: number
  p50: number
  p99: number
  peakRssMb: number
  /** Share of one core the server used during the run: near 100 % means it was CPU-bound. */
  serverCpuPercent?: number
  /** Server CPU time (user + system) per answered request, in µs: what a request costs, whatever the load. */
  serverCpuMicrosPerRequest?: number
  trace?: { done: number; rssMb: number }[]
  /** Commands Redis processed during the run (all clients), when measured. */
  redisCommands?: number
  redisCommandsByName?: Record<string, number>
  redisCpuPercent?: number
}

/** CPU seconds (user + system) a process has used, from /proc (Linux; NaN elsewhere). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the ") " split; in clock ticks (100/s).
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

/** Resident set size of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN')
    return kb / 1024
  } catch {
    return Number.NaN
  }
}

/**
 * Runs autocannon with per-request bodies/paths and returns requests/s, p50/p99 latency (in ms,
 * sub-millisecond: taken from each response's own timing, not autocannon's 1 ms histogram) and the
 * server's peak RSS during the run.
 */
export async function drive(options: DriveOptions): Promise<RunResult> {
  const latencies: number[] = []
  let peakRss = rssMb(options.pid)
  const trace: { done: number; rssMb: number }[] = []
  const sampler = setInterval(() => {
    const now = rssMb(options.pid)
    peakRss = Math.max(peakRss, now)
    if (options.trace) trace.push({ done: latencies.length, rssMb: now })
  }, 100)
  const started = performance.now()
  const cpuBefore = cpuSeconds(options.pid)
  let finish: (value: autocannon.Result) => void = () => undefined
  let fail: (err: unknown) => void = () => undefined
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  const instance = autocannon(
    {
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSeconds ?? 5 }),
    ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const next = options.next()
          return { ...req, method: next.method, path: next.path, headers: { ...next.headers }, ...(next.body !== undefined ? { body: next.body } : {}) }
        },
      },
    ],
    },
    (err, result) => (err ? fail(err) : finish(result)),
  )
  // autocannon ends `amount` runs on its 1 s tick, so its own duration is rounded up to whole seconds:
  // the rate is taken from the first and last answers instead.
  let firstAt = 0
  let lastAt = 0
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    lastAt = performance.now()
    if (latencies.length === 0) firstAt = lastAt - responseTime
    latencies.push(responseTime)
  })
  const result = await finished
  const seconds = latencies.length > 0 ? (lastAt - firstAt) / 1000 : (performance.now() - started) / 1000
  clearInterval(sampler)
  peakRss = Math.max(peakRss, rssMb(options.pid))
  const statuses: Record<string, number> = {}
  let good = 0
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {}) as [string, { count: number }][]) {
    statuses[status] = count
    if (Number(status) === options.expectStatus) good += count
  }
  const requests = latencies.length
  latencies.sort((a, b) => a - b)
  return {
    requests,
    errors: requests - good + result.errors + result.timeouts,
    statuses,
    seconds,
    rps: requests / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    peakRssMb: peakRss,
    serverCpuPercent: ((cpuSeconds(options.pid) - cpuBefore) / ((performance.now() - started) / 1000)) * 100,
    serverCpuMicrosPerRequest: ((cpuSeconds(options.pid) - cpuBefore) * 1e6) / Math.max(1, requests),
    ...(options.trace ? { trace } : {}),
  }
}

/**
 * Stores `count` one-time connect tokens straight in Redis (raven-connect's format: the record under
 * the SHA-256 of the token), so a launch run measures the launch, not the /v1 route that mints them.
 */
export async function prepareTokens(redis: Redis, count: number, returnTo: string): Promise<string[]> {
  const tokens: string[] = []
  const now = Date.now()
  for (let start = 0; start < count; start += 5000) {
    const pipeline = redis.pipeline()
    for (let i = start; i < Math.min(count, start + 5000); i += 1) {
      const token = 'rc_cs_' + randomBytes(32).toString('base64url')
      const record = {
        id: 'cs_' + randomBytes(12).toString('base64url'),
        leafUserId: `grower-${i}`,
        mode: 'redirect',
        returnTo,
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + 900_000).toISOString(),
      }
      pipeline.set('rc:cs:' + createHash('sha256').update(token).digest('hex'), JSON.stringify(record), 'EX', 900)
      tokens.push(token)
    }
    await pipeline.exec()
  }
  return tokens
}

/** A launched flow, ready for its callback: the state and nonce from the 303 and the session cookie. */
export interface PreparedFlow {
  state: string
  nonce: string
  cookie: string
}

/** Launches each token against the server (not measured) and collects what its callback needs. */
export async function prepareFlows(baseUrl: string, tokens: string[], concurrency = 32): Promise<PreparedFlow[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const flows: PreparedFlow[] = []
  let index = 0
  const worker = async () => {
    while (index < tokens.length) {
      const token = tokens[index++] as string
      const { status, headers } = await get(`${baseUrl}/connect/raven?session=${encodeURIComponent(token)}`, agent)
      const location = typeof headers.location === 'string' ? new URL(headers.location) : undefined
      const cookie = headers['set-cookie']?.[0]?.split(';')[0]
      const state = location?.searchParams.get('state')
      const nonce = location?.searchParams.get('nonce')
      if (status !== 303 || !cookie || !state || !nonce) throw new Error(`launch for a callback flow answered ${status}`)
      flows.push({ state, nonce, cookie })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  agent.destroy()
  return flows
}

function get(url: string, agent: Agent): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

export interface PaceOptions {
  url: string
  /** Requests per second, sent open-loop: on schedule whether or not earlier answers came back. */
  rate: number
  amount: number
  next: () => BenchRequest
  expectStatus: number
  pid: number
}

/**
 * The latency run: an open-loop generator at a fixed offered rate. autocannon's rate limit lets each
 * connection send its share of a second back to back, a burst every second; this sends one request
 * every 1/rate s (on ~1 ms timer ticks) on a keep-alive pool, so latency is measured without
 * saturation and without coordinated omission (a slow answer does not delay the next request).
 */
export async function pace(options: PaceOptions): Promise<RunResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 })
  const target = new URL(options.url)
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  let errors = 0
  let peakRss = rssMb(options.pid)
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(options.pid))
  }, 100)
  const interval = 1000 / options.rate
  const inFlight: Promise<void>[] = []
  const fire = () => {
    const next = options.next()
    const sentAt = performance.now()
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = request(
          { host: target.hostname, port: target.port, method: next.method, path: next.path, headers: { ...next.headers, ...(next.body !== undefined ? { 'content-length': String(Buffer.byteLength(next.body)) } : {}) }, agent, timeout: 10_000 },
          (res) => {
            res.resume()
            res.on('end', () => {
              latencies.push(performance.now() - sentAt)
              const status = String(res.statusCode)
              statuses[status] = (statuses[status] ?? 0) + 1
              if (res.statusCode !== options.expectStatus) errors += 1
              resolve()
            })
          },
        )
        req.on('timeout', () => req.destroy(new Error('timeout')))
        req.on('error', () => {
          errors += 1
          resolve()
        })
        req.end(next.body)
      }),
    )
  }
  const started = performance.now()
  let sent = 0
  while (sent < options.amount) {
    const now = performance.now()
    while (sent < options.amount && started + sent * interval <= now) {
      fire()
      sent += 1
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await Promise.all(inFlight)
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    errors,
    statuses,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    peakRssMb: Math.max(peakRss, rssMb(options.pid)),
  }
}
