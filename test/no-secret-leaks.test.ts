import { describe, expect, it } from '@jest/globals'

import type { TestBrowser } from './helpers/browser.js'
import { flowToCallback, useSystem, type FlowOptions } from './helpers/kit/index.js'

const system = useSystem()
const browsers: TestBrowser[] = []
const hostReplies: string[] = []
const connectTokens: string[] = []
const codes: string[] = []

/** Every answer raven-connect gave a browser: status line, headers (incl. Location, Set-Cookie), body. */
function serviceResponses(): string {
  return browsers
    .flatMap((browser) => browser.history)
    .filter((response) => response.url.startsWith(system.url))
    .map((response) => {
      const headers: string[] = []
      response.headers.forEach((value, name) => headers.push(`${name}: ${value}`))
      return [response.status, ...headers, response.body].join('\n')
    })
    .join('\n')
}

async function run(options: FlowOptions, then?: (browser: TestBrowser) => Promise<void>) {
  const flow = await flowToCallback(system, options)
  browsers.push(flow.browser)
  codes.push(flow.callbackUrl.searchParams.get('code') ?? '')
  await flow.browser.follow(flow.callbackUrl, { stopAt: (url) => url.origin !== system.url })
  await then?.(flow.browser)
}

describe('no secret leaves the service', () => {
  it('collects a whole run: flows, errors, status, events, disconnect, operations', async () => {
    const originalCreate = system.createConnectSession.bind(system)
    system.createConnectSession = async (body) => {
      const reply = await originalCreate(body)
      connectTokens.push(new URL(reply.connectUrl).searchParams.get('session') ?? '')
      hostReplies.push(JSON.stringify(reply))
      return reply
    }
    await run({ returnTo: `${system.returnOrigin}/done` }, async (browser) => {
      await browser.get(`${system.url}/api/raven-connection`)
      await browser.get(`${system.url}/api/raven-connection/events`)
    })
    await run({}, async (browser) => {
      await browser.request(`${system.url}/api/raven-connection`, { method: 'DELETE', headers: { 'X-Requested-With': 'x' } })
    })
    await run({ decision: 'decline' })
    system.raven.faults.tokenResponse = 'invalid_grant'
    await run({})
    system.raven.faults.tokenResponse = 'omit_refresh_token'
    await run({})
    system.raven.faults.reset()
    system.leaf.faults.script('POST', '/raven-credentials', { status: 400, body: { detail: 'no' } })
    await run({ returnTo: `${system.returnOrigin}/x` })
    system.leaf.faults.reset()

    const ops = system.browser()
    browsers.push(ops)
    await ops.get(`${system.url}/readyz`)
    await ops.get(`${system.url}/metrics`)
    const leafUser = [...system.leaf.state.credentials.keys()][0] ?? 'none'
    for (const path of [`/v1/users/${leafUser}/raven-connection`, `/v1/users/${leafUser}/raven-connection/events`]) {
      await ops.get(`${system.url}${path}`, { Authorization: `Bearer ${system.secrets.apiKey}` })
    }
    expect(system.leaf.state.credentials.size).toBeGreaterThan(0)
  })

  it('finds none of the secrets in any response, redirect, page or log line', () => {
    const refreshTokens = [...system.leaf.state.credentials.values()].map((credential) => credential.refreshToken)
    const secrets: Record<string, string[]> = {
      'Raven client secret': [system.secrets.ravenClientSecret],
      'Leaf password': [system.secrets.leafPassword],
      'Leaf API tokens': [...system.leaf.issuedTokens()],
      'API key': [system.secrets.apiKey],
      'session secret': [system.secrets.sessionSecret],
      'token encryption key': [system.secrets.tokenEncryptionKey, Buffer.from(system.secrets.tokenEncryptionKey, 'base64').toString('hex')],
      'refresh tokens': refreshTokens,
      'Leaf event secrets': [...system.leaf.state.eventSecrets.values()].flat(),
      'authorization codes': codes.filter(Boolean),
    }
    expect(refreshTokens.length).toBeGreaterThan(0)
    expect(secrets['Leaf API tokens']?.length).toBeGreaterThan(0)
    const haystacks = { responses: serviceResponses(), logs: system.logs.join('\n') }
    expect(haystacks.responses.length).toBeGreaterThan(1000)
    expect(haystacks.logs.length).toBeGreaterThan(1000)
    const found: string[] = []
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, values] of Object.entries(secrets)) {
        for (const value of values) if (value && value.length >= 8 && text.includes(value)) found.push(`${name} in ${where}`)
      }
      // Connect tokens may appear only in the connectUrl given to the host backend.
      for (const token of connectTokens) if (text.includes(token)) found.push(`connect token in ${where}`)
    }
    expect(found).toEqual([])
    // The host backend's reply is the one place a connect token may appear.
    expect(hostReplies.join('\n')).toContain(connectTokens[0] ?? 'missing')
  })
})
