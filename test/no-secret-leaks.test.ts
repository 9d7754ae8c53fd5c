import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { signLeafBody } from '../sandboxes/leaf/alerts.js'
import type { TestBrowser } from './helpers/browser.js'
import { credentialAlert, flowToCallback, registerLeafAlerts, useSystem, waitFor, type FlowOptions } from './helpers/kit/index.js'

// Webhooks to the host (connection.broken among them): headers and bodies, for the sweep.
const webhookSecret = `whsec_leaks_${Date.now().toString(36)}_0123456789`
const webhookPosts: string[] = []
let receiver: Server
beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      webhookPosts.push(`${JSON.stringify(req.headers)}\n${Buffer.concat(chunks).toString('utf8')}`)
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
})
const system = useSystem(() => ({
  leafAlerts: {},
  env: { WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, WEBHOOK_SECRET: webhookSecret },
}))
afterAll(async () => {
  receiver.closeAllConnections()
  await new Promise<void>((resolve) => receiver.close(() => resolve()))
})
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

    // The life of a connection: Leaf's confirmation and alerts, forged ones, the list endpoint.
    await registerLeafAlerts(system)
    const ops = system.browser()
    browsers.push(ops)
    const connected = [...system.leaf.state.credentials.keys()][0] ?? 'none'
    await system.leaf.alerts.breakCredential(connected)
    const forged = JSON.stringify(credentialAlert({ credentialId: 'forged' }))
    for (const signature of ['', 'AAAA', signLeafBody(forged, 'not-the-secret-at-all')]) {
      await ops.request(`${system.url}/leaf/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-leaf-signature': signature }, body: forged })
    }
    const signed = JSON.stringify({ type: 'credentialsUnauthenticated', provider: 'Raven' })
    await ops.request(`${system.url}/leaf/alerts`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-leaf-signature': signLeafBody(signed, system.secrets.leafAlertsSecret) }, body: signed })
    await ops.get(`${system.url}/v1/raven-connections?health=unauthenticated`, { Authorization: `Bearer ${system.secrets.apiKey}` })
    await waitFor('the connection.broken webhook', () => webhookPosts.some((post) => post.includes('connection.broken')))
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
      'Leaf Alerts secret': [system.secrets.leafAlertsSecret],
      'webhook secret': [webhookSecret],
    }
    expect(refreshTokens.length).toBeGreaterThan(0)
    expect(secrets['Leaf API tokens']?.length).toBeGreaterThan(0)
    const haystacks = { responses: serviceResponses(), logs: system.logs.join('\n'), webhooks: webhookPosts.join('\n') }
    expect(haystacks.webhooks).toContain('connection.broken')
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
