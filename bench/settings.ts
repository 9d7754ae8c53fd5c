import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { ROUTES, type RouteName } from './report.js'

/* What one bench run is told (BENCH_* variables), where it runs from, and its progress log on stderr. */

export const settings = {
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
  /** Extra Node options for raven-connect only (space-separated), to try a V8 setting before proposing it. */
  nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== ''),
  /** Write a V8 CPU profile of raven-connect to dist/bench/profiles/ (node --cpu-prof). */
  profile: process.env.BENCH_PROFILE === '1',
}

/** The repository (this file runs from dist/bench/bench/) and the compiled bench's own folder. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const HERE = fileURLToPath(new URL('./', import.meta.url))
export const RETURN_ORIGIN = 'http://127.0.0.1:9'
export const RETURN_TO = `${RETURN_ORIGIN}/done`
export const secrets = { apiKey: 'bench_' + randomBytes(18).toString('base64url'), session: randomBytes(24).toString('base64url'), client: randomBytes(18).toString('base64url') }

const started = Date.now()

export function log(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`)
}

/** Called before each run: the whole bench stops at BENCH_DEADLINE_SECONDS. */
export function checkDeadline(): void {
  if ((Date.now() - started) / 1000 > settings.deadlineSeconds) throw new Error(`bench deadline of ${settings.deadlineSeconds} s passed`)
}
