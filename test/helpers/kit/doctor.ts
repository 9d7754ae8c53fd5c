// The go-live doctor as a user runs it: a child process configured by environment only, against
// sandboxes started here (misconfigured on purpose where a test says so).
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'

import { expect } from '@jest/globals'

import type { CheckResult } from '../../../src/doctor/check.js'
import { startLeafSandbox, type LeafSandbox, type LeafSandboxOptions } from '../../../sandboxes/leaf/server.js'
import { startRavenSandbox, type RavenSandbox } from '../../../sandboxes/raven/server.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface DoctorRun {
  code: number | null
  stdout: string
  stderr: string
  /** The report's check lines (`✓ name  detail`), without the summary. */
  lines: string[]
}

/** Runs `src/cli/doctor.ts` (what `npm run doctor` runs from a checkout) with exactly `env`. */
export function runDoctor(env: Record<string, string | undefined>, args: string[] = [], command: string[] = ['--import', 'tsx', 'src/cli/doctor.ts']): Promise<DoctorRun> {
  const child = spawn(command[0] === 'npm' ? 'npm' : process.execPath, command[0] === 'npm' ? [...command.slice(1), ...args] : [...command, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...definedOnly(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr, lines: stdout.split('\n').filter((line) => /^[✓!✗] /.test(line)) }))
  })
}

/** The `--json` report, checked for its documented shape. */
export function parseDoctorJson(run: DoctorRun): CheckResult[] {
  const results = JSON.parse(run.stdout) as CheckResult[]
  expect(Array.isArray(results)).toBe(true)
  for (const result of results) {
    expect(Object.keys(result).sort()).toEqual(['check', 'detail', 'result'])
    expect(['pass', 'warn', 'fail']).toContain(result.result)
  }
  return results
}

/** The one line of `check`: asserts it exists with this mark and returns it. */
export function doctorLine(run: DoctorRun, mark: '✓' | '!' | '✗', check: string): string {
  const line = run.lines.find((candidate) => candidate.split(/\s+/)[1] === check)
  if (line === undefined) throw new Error(`no ${check} line in the report:\n${run.stdout}\n${run.stderr}`)
  expect(line.slice(0, 1)).toBe(mark)
  return line
}

export interface DoctorWorld {
  env: Record<string, string>
  raven: RavenSandbox
  leaf: LeafSandbox
  /** Every secret of `env`, for leak sweeps. */
  secrets: string[]
  close(): Promise<void>
}

export interface DoctorWorldOptions {
  /** Default: a loopback origin where nothing listens (only `--public` reaches it). */
  publicBaseUrl?: string
  leaf?: LeafSandboxOptions
}

/**
 * A production-shaped environment against local sandboxes and the test Redis: the Raven client has
 * the redirect URI of `publicBaseUrl` registered, Leaf knows the login. Tests change `env` to
 * misconfigure it.
 */
export async function startDoctorWorld(options: DoctorWorldOptions = {}): Promise<DoctorWorld> {
  const redisUrl = process.env.REDIS_URL
  if (!redisUrl) throw new Error('REDIS_URL is not set: run the tests with npm test')
  const publicBaseUrl = options.publicBaseUrl ?? `http://127.0.0.1:${await closedPort()}`
  const secret = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url')}`
  const clientSecret = secret('ravensecret')
  const leafPassword = secret('leafpw')
  const raven = await startRavenSandbox({ clients: [{ clientId: 'raven-connect-doctor', clientSecret, redirectUris: [`${publicBaseUrl}/connect/raven/callback`] }] })
  const leaf = await startLeafSandbox({ username: 'owner@leaf.test', password: leafPassword, ...options.leaf })
  const env: Record<string, string> = {
    PUBLIC_BASE_URL: publicBaseUrl,
    REDIS_URL: redisUrl,
    SESSION_SECRET: secret('session'),
    API_KEYS: secret('apikey'),
    RAVEN_ISSUER: raven.issuer,
    RAVEN_CLIENT_ID: 'raven-connect-doctor',
    RAVEN_CLIENT_SECRET: clientSecret,
    LEAF_API_URL: leaf.url,
    LEAF_USERNAME: 'owner@leaf.test',
    LEAF_PASSWORD: leafPassword,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  }
  return {
    env,
    raven,
    leaf,
    secrets: [clientSecret, leafPassword, env.SESSION_SECRET ?? '', env.API_KEYS ?? '', env.TOKEN_ENCRYPTION_KEY ?? ''],
    async close() {
      await Promise.all([raven.close(), leaf.close()])
    },
  }
}

/** Both credential events, the ones the service registers for. */
export const CREDENTIAL_EVENTS = ['credentialsUnauthenticated', 'credentialsLimitedPermission']

/**
 * Registers a Leaf Alerts webhook at the world's Leaf sandbox through its Alerts API (login, then
 * `POST …/alerts/webhooks`), as an operator or another integration would have: `url` may be this
 * service's or another. Clears earlier registrations first, so each test states its own.
 */
export async function registerAlertsAtLeaf(world: DoctorWorld, webhook: { url: string; secret: string; events?: string[] }): Promise<void> {
  world.leaf.alerts.reset()
  const login = await fetch(`${world.leaf.url}/api/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: world.env.LEAF_USERNAME, password: world.env.LEAF_PASSWORD, rememberMe: 'true' }),
  })
  const token = ((await login.json()) as { id_token: string }).id_token
  const res = await fetch(`${world.leaf.url}/services/alerts/api/alerts/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: 'registered-by-the-test', events: webhook.events ?? CREDENTIAL_EVENTS, ...webhook }),
  })
  if (res.status !== 201) throw new Error(`the Leaf sandbox refused the webhook: ${res.status}`)
}

/** A TCP server that accepts connections and never answers: an upstream that hangs. */
export async function startHangingServer(): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
}
