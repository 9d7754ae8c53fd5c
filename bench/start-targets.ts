import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'

import { freePort } from '../sandboxes/redis/throwaway-redis.js'
import { rssMb } from './load.js'
import { TARGETS, type TargetName } from './report.js'
import { ROOT, HERE, RETURN_ORIGIN, log, secrets, settings } from './settings.js'
import { BENCH_CLIENT_ID } from './stand-ins.js'
import type { StandInProcess } from './stand-in-process.js'
import { startTarget, type Target } from './targets.js'

/*
 * The three servers under test, each in its own process. raven-connect runs as built (dist/main.js),
 * so through its one composition root (src/compose.ts) and with the environment production reads.
 */

export interface StartedTargets {
  targets: Record<TargetName, Target>
  idleRssMb: Record<TargetName, number>
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

/**
 * The Node options of `npm start` (package.json), the way production runs the service (the image runs
 * `npm start`): raven-connect is measured with its V8 settings, not Node's defaults.
 */
function productionNodeArgs(): string[] {
  const start = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: { start: string } }).scripts.start
  const words = start.split(' ').filter((word) => word !== '')
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js') throw new Error(`package.json start is not "node [options] dist/main.js": ${start}`)
  return words.slice(1, -1)
}

/** Starts the targets one after another, each on a free port, and notes each one's idle RSS. */
export async function startTargets(standIns: StandInProcess, redisUrl: string): Promise<StartedTargets> {
  const entries: Record<TargetName, { entry: string; ready: string }> = {
    'raven-connect': { entry: `${ROOT}dist/main.js`, ready: '/readyz' },
    baseline: { entry: `${HERE}baseline-server.js`, ready: '/healthz' },
    'usual-stack': { entry: `${HERE}usual-stack-server.js`, ready: '/healthz' },
  }
  const targets = {} as Record<TargetName, Target>
  const idleRssMb = {} as Record<TargetName, number>
  for (const name of TARGETS) {
    const port = await freePort()
    const env = serviceEnv(port, standIns, redisUrl)
    // raven-connect discovers its endpoints (RAVEN_ISSUER); the others are given them.
    if (name === 'raven-connect') {
      delete (env as Partial<typeof env>).RAVEN_AUTHORIZATION_ENDPOINT
      delete (env as Partial<typeof env>).RAVEN_TOKEN_ENDPOINT
    }
    const nodeArgs = name !== 'raven-connect' ? [] : [...productionNodeArgs(), ...settings.nodeArgs, ...(settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${ROOT}dist/bench/profiles`] : [])]
    targets[name] = await startTarget(name, entries[name].entry, env, `http://127.0.0.1:${port}`, entries[name].ready, nodeArgs)
    idleRssMb[name] = rssMb(targets[name].pid)
    log(`${name} listening on port ${port} (pid ${targets[name].pid}${targets[name].pinned ? ', pinned to core 1' : ''}), idle RSS ${idleRssMb[name].toFixed(0)} MB`)
  }
  return { targets, idleRssMb }
}
