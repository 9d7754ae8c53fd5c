// Leaf at its worst: redirects that would carry our secrets elsewhere, answers too large to buffer,
// bodies cut off inside a secret, and text built to make a backtracking regex take quadratic time.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

import { RE2JS } from 're2js'

import { LeafClient, LeafError } from '../src/leaf/client.js'
import { REDACTED, TEXT_PATTERNS, redactText } from '../src/leaf/redact.js'
import { MAX_LEAF_BODY_BYTES } from '../src/leaf/transport.js'
import { createLogger } from '../src/infra/logger.js'
import { startLeafSandbox, type LeafSandbox } from '../sandboxes/leaf/server.js'
import { leafErrorOf } from './helpers/kit/index.js'

const LOGIN = { username: 'leaf-demo@example.com', password: 'leaf-hostile-pw-7f3a' }
const CREDENTIAL = { clientId: 'raven-app', clientSecret: 'app-secret-hostile-91', refreshToken: 'rt-hostile-grower-44' }

/** Another local server, where a redirect from Leaf points: it records whatever reaches it. */
interface Elsewhere {
  url: string
  requests: Array<{ method: string; url: string; body: string; authorization: string | undefined }>
  close(): Promise<void>
}

async function startElsewhere(): Promise<Elsewhere> {
  const requests: Elsewhere['requests'] = []
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString(), authorization: req.headers.authorization })
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"id_token":"stolen","id":"x"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

let leaf: LeafSandbox
let elsewhere: Elsewhere

function client(): LeafClient {
  return new LeafClient({ apiUrl: leaf.url, auth: LOGIN, timeoutMs: 2000, retry: { attempts: 3, baseMs: 5, capMs: 20 }, logger: createLogger({ level: 'silent' }) })
}

beforeAll(async () => {
  leaf = await startLeafSandbox({ port: 0, ...LOGIN })
  elsewhere = await startElsewhere()
})
afterAll(async () => {
  await Promise.all([leaf.close(), elsewhere.close()])
})
beforeEach(() => {
  leaf.state.reset()
  leaf.faults.reset()
  elsewhere.requests.length = 0
})

describe('Leaf calls never follow redirects', () => {
  it.each([307, 308])('a %i on /api/authenticate is an error, and the password is not sent to the Location', async (status) => {
    leaf.faults.script('POST', '/api/authenticate', { status, headers: { Location: `${elsewhere.url}/api/authenticate` } })
    const user = leaf.state.addUser({ externalId: 'g' })
    const err = await leafErrorOf(client().getUser(user.id))
    expect(err.kind).toBe('invalid_response')
    expect(err.status).toBe(status)
    expect(elsewhere.requests).toEqual([])
    // Not retried either: one authentication attempt reached Leaf.
    expect(leaf.state.requests.filter((r) => r.path === '/api/authenticate')).toHaveLength(1)
  })

  it.each([301, 302, 307, 308])('a %i on POST raven-credentials is an error, and the client secret and refresh token go nowhere', async (status) => {
    const user = leaf.state.addUser({ externalId: 'g' })
    const path = `/users/${user.id}/raven-credentials`
    leaf.faults.script('POST', path, { status, headers: { Location: `${elsewhere.url}/services/usermanagement/api${path}` } })
    const err = await leafErrorOf(client().createRavenCredential(user.id, CREDENTIAL))
    expect(err.kind).toBe('invalid_response')
    expect(elsewhere.requests).toEqual([])
    expect(leaf.state.credentialFor(user.id)).toBeUndefined()
    expect(JSON.stringify(err)).not.toContain(CREDENTIAL.refreshToken)
    expect(err.message).not.toContain(elsewhere.url)
  })

  it('a redirect during the reconnect routine leaves Leaf and the other server without the credential', async () => {
    const user = leaf.state.addUser({ externalId: 'g' })
    leaf.faults.script('POST', `/users/${user.id}/raven-credentials`, { status: 307, headers: { Location: `${elsewhere.url}/steal` } })
    await leafErrorOf(client().replaceRavenCredential(user.id, CREDENTIAL))
    expect(elsewhere.requests).toEqual([])
    expect(leaf.state.credentialFor(user.id)).toBeUndefined()
  })
})

describe('Leaf bodies are read with a size cap', () => {
  const hugeEvents = () => [{ id: 'e', createdDate: '2026-01-01T00:00:00Z', statusCode: '200', body: 'x'.repeat(MAX_LEAF_BODY_BYTES), headers: '' }]

  it('refuses an answer announced (Content-Length) larger than the cap as invalid_response', async () => {
    const user = leaf.state.addUser({ externalId: 'g' })
    leaf.faults.script('GET', `/users/${user.id}/raven-credentials/events`, { status: 200, body: hugeEvents() })
    const err = await leafErrorOf(client().getRavenCredentialEvents(user.id))
    expect(err.kind).toBe('invalid_response')
    expect(err.message).toContain(`larger than ${MAX_LEAF_BODY_BYTES} bytes`)
  })

  it('stops reading a streamed answer (no Content-Length) once it passes the cap', async () => {
    const user = leaf.state.addUser({ externalId: 'g' })
    leaf.faults.script('GET', `/users/${user.id}/raven-credentials/events`, { status: 200, body: hugeEvents(), chunked: true })
    const err = await leafErrorOf(client().getRavenCredentialEvents(user.id))
    expect(err.kind).toBe('invalid_response')
    expect(err.message).toContain(`larger than ${MAX_LEAF_BODY_BYTES} bytes`)
  })

  it('still reads an answer just under the cap', async () => {
    const user = leaf.state.addUser({ externalId: 'g' })
    const events = [{ id: 'e', createdDate: '2026-01-01T00:00:00Z', statusCode: '200', body: 'y'.repeat(MAX_LEAF_BODY_BYTES - 200), headers: '' }]
    leaf.faults.script('GET', `/users/${user.id}/raven-credentials/events`, { status: 200, body: events, chunked: true })
    const read = await client().getRavenCredentialEvents(user.id)
    expect(read).toHaveLength(1)
    expect(read[0]?.body.length).toBe(MAX_LEAF_BODY_BYTES - 200)
  })
})

describe('redaction of bodies cut off inside a secret', () => {
  it.each([
    ['JSON cut inside the value', '{"token_type":"Bearer","refresh_token":"rt-cut-SECRET1', 'rt-cut-SECRET1'],
    ['JSON cut inside the value, then a new line', '{"access_token":"at-cut-SECRET2\n{"next":"line"}', 'at-cut-SECRET2'],
    ['escaped JSON cut inside the value', 'upstream said {\\"client_secret\\":\\"cs-cut-SECRET3', 'cs-cut-SECRET3'],
    ['spaces around the colon', '{ "refresh_token" :  "rt-cut-SECRET4', 'rt-cut-SECRET4'],
  ])('redacts %s', (_label, body, secret) => {
    const out = redactText(body)
    expect(out).not.toContain(secret)
    expect(out).toContain(REDACTED)
  })

  it('keeps a cut-off value of a harmless key readable', () => {
    expect(redactText('{"error":"invalid_grant","error_description":"the grant was revo')).toContain('the grant was revo')
  })
})

describe('redaction stays linear on 1 MB adversarial bodies', () => {
  const MB = 1024 * 1024
  // Each body makes at least one of the old backtracking patterns rescan the rest of the text from
  // every position (quadratic); each ends with a real secret that must still be found.
  const tail = '\n"refresh_token":"rt-after-the-noise-SECRET'
  const bodies: Array<[string, string]> = [
    ['eyJ repeated (the JWT pattern)', 'eyJ'.repeat(MB / 3)],
    ['backslashes (the escaped-JSON pattern)', '\\'.repeat(MB)],
    ['quotes and colons (the JSON pair pattern)', '"a":'.repeat(MB / 4)],
    ['a header line of spaces (the header pattern)', `X-Note: a${' '.repeat(MB)}b`],
    ['keys without values (the key=value pattern)', '&a'.repeat(MB / 2)],
    ['schemes without credentials (the auth pattern)', 'Bearer '.repeat(MB / 7)],
  ]

  it('runs every text pattern on RE2 (linear time by construction, no backtracking)', () => {
    for (const pattern of Object.values(TEXT_PATTERNS)) expect(pattern).toBeInstanceOf(RE2JS)
  })

  it.each(bodies)('redacts the secret after %s', (_label, noise) => {
    const out = redactText(noise + tail)
    expect(out).not.toContain('rt-after-the-noise-SECRET')
    expect(out.endsWith(`"refresh_token":"${REDACTED}`)).toBe(true)
  })
})
