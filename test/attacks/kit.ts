// Shared moves of the attack suite: start a flow as a grower would, capture Raven's answer before it
// reaches the service (as an attacker who observed or forged it), send raw bytes, and check answers.
import { connect } from 'node:net'

import { expect } from '@jest/globals'

import { driveConsent } from '../helpers/consent-driver.js'
import type { BrowserResponse, TestBrowser } from '../helpers/browser.js'
import type { TestSystem } from '../helpers/system.js'

export interface StartedFlow {
  leafUserId: string
  connectUrl: string
  authorizeUrl: URL
  state: string
}

/** Creates a connect session and launches it in `browser`; stops at Raven's authorization URL. */
export async function launchFlow(
  system: TestSystem,
  browser: TestBrowser,
  options: { leafUserId?: string; returnTo?: string; mode?: 'redirect' | 'popup' } = {},
): Promise<StartedFlow> {
  const leafUserId = options.leafUserId ?? system.newLeafUser()
  const session = await system.createConnectSession({
    leafUserId,
    ...(options.returnTo ? { returnTo: options.returnTo } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
  })
  const launch = await browser.get(session.connectUrl)
  expect(launch.status).toBe(303)
  const authorizeUrl = new URL(launch.location ?? '')
  return { leafUserId, connectUrl: session.connectUrl, authorizeUrl, state: authorizeUrl.searchParams.get('state') ?? '' }
}

/** Launches, signs in and consents at Raven; returns Raven's redirect to the callback, unrequested. */
export async function consentedCallback(
  system: TestSystem,
  browser: TestBrowser,
  options: { leafUserId?: string; returnTo?: string; decision?: 'allow' | 'decline' } = {},
): Promise<StartedFlow & { callbackUrl: URL; code: string }> {
  const flow = await launchFlow(system, browser, options)
  const callbackUrl = await driveConsent(browser, flow.authorizeUrl, { decision: options.decision ?? 'allow' })
  return { ...flow, callbackUrl, code: callbackUrl.searchParams.get('code') ?? '' }
}

/** The callback URL with a hand-written query (order and repeats kept exactly as given). */
export function callbackWith(system: TestSystem, query: string): string {
  return `${system.url}/connect/raven/callback${query ? `?${query}` : ''}`
}

/** The result page's machine-readable outcome, or the outcome in a redirect's query. */
export function outcomeOf(res: BrowserResponse): { raven: string | null; reason: string | null } {
  if (res.status >= 300 && res.status < 400 && res.location) {
    const url = new URL(res.location)
    return { raven: url.searchParams.get('raven'), reason: url.searchParams.get('reason') }
  }
  const raven = /data-raven="([^"]*)"/.exec(res.body)?.[1] ?? null
  const reason = /data-reason="([^"]*)"/.exec(res.body)?.[1] ?? null
  return { raven, reason }
}

/** An HTML result page (not a redirect) ending in `raven=error&reason=<reason>`. */
export function expectErrorPage(res: BrowserResponse, status: number, reason: string): void {
  expect({ status: res.status, type: res.headers.get('content-type'), ...outcomeOf(res) }).toEqual({
    status,
    type: expect.stringContaining('text/html'),
    raven: 'error',
    reason,
  })
}

/** A problem+json answer (RFC 9457) with the contract's stable `code`. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text()
  expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({
    status,
    type: expect.stringContaining('application/problem+json'),
  })
  const body = JSON.parse(text) as Record<string, unknown>
  expect(body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String), type: expect.any(String) })
  expectNoInternals(text)
  return body
}

/** Never a stack trace, a file path or the framework's default error page. */
export function expectNoInternals(body: string): void {
  expect(body).not.toMatch(/\n\s+at [\w.<>]+ \(|node_modules|\/work\/|Cannot (GET|POST|PUT|DELETE|HEAD|PATCH)|<pre>/)
}

/** Redis keys matching `pattern` (SCAN, not KEYS, so a large database is not blocked). */
export async function redisKeys(system: Pick<TestSystem, 'redis'>, pattern: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await system.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** The session id inside a signed express-session cookie value (`s:<id>.<signature>`). */
export function sessionIdOf(cookieValue: string): string {
  const decoded = decodeURIComponent(cookieValue)
  return decoded.slice(2, decoded.lastIndexOf('.'))
}

/** Writes raw bytes to the service and returns whatever it answers before closing (bounded wait). */
export function rawRequest(system: Pick<TestSystem, 'url'>, text: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(system.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('raw request: no answer in time'))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    socket.write(text)
  })
}

/** Splits a raw HTTP/1.1 answer into status, lower-cased headers and body. */
export function parseRaw(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const split = answer.indexOf('\r\n\r\n')
  const head = answer.slice(0, split === -1 ? answer.length : split).split('\r\n')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers, body: split === -1 ? '' : answer.slice(split + 4) }
}
