import { randomBytes, randomUUID } from 'node:crypto'
import type { SandboxCredential } from './store.js'

/** An event as Leaf answers it (reference/: every field a string, `statusCode` an "int" string). */
export interface SandboxEvent {
  id: string
  createdDate: string
  statusCode: string | number
  body: string
  headers: string
}

/*
 * Leaf's events log its own calls to Raven, and real ones carry secrets in every shape Leaf happens
 * to print: token-endpoint answers as JSON, form bodies, Basic and Bearer headers (as JSON, as header
 * lines, as a Java map dump), tokens in URLs. The sandbox writes all of them, with the credential's
 * real secrets plus fresh ones, so the service's redaction is tested against what could leak.
 */
export function buildRavenEvents(credential: SandboxCredential, now: number): {
  events: SandboxEvent[]
  secrets: string[]
} {
  const rotatedRefreshToken = `rt-rotated-${randomBytes(18).toString('base64url')}`
  const truncatedRefreshToken = `rt-cut-${randomBytes(18).toString('base64url')}`
  const idToken = fakeJwt({ sub: 'raven-grower', aud: credential.clientId })
  const basic = Buffer.from(`${credential.clientId}:${credential.clientSecret}`).toString('base64')
  const sessionId = randomBytes(12).toString('hex')
  const code = `code-${randomBytes(16).toString('base64url')}`
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
  const tokenUrl = 'https://auth.agsync.com/core/connect/token'
  const callbackUrl = 'https://connect.example.com/connect/raven/callback'

  const events: SandboxEvent[] = [
    {
      id: randomUUID(),
      createdDate: at(1),
      statusCode: '200',
      body: JSON.stringify({
        access_token: credential.accessToken,
        expires_in: 3600,
        token_type: 'Bearer',
        refresh_token: rotatedRefreshToken,
        id_token: idToken,
      }),
      headers: JSON.stringify({
        Authorization: `Basic ${basic}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Request-Url': `${tokenUrl}?grant_type=refresh_token&refresh_token=${credential.refreshToken}`,
      }),
    },
    {
      id: randomUUID(),
      createdDate: at(2),
      statusCode: '200',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.refreshToken,
        client_id: credential.clientId,
        client_secret: credential.clientSecret,
      }).toString(),
      headers: [
        'POST /core/connect/token HTTP/1.1',
        'Host: auth.agsync.com',
        `Authorization: Basic ${basic}`,
        'Content-Type: application/x-www-form-urlencoded',
      ].join('\r\n'),
    },
    {
      id: randomUUID(),
      createdDate: at(3),
      statusCode: '401',
      body:
        `GET https://api.agsync.com/api/v3/Growers?access_token=${credential.accessToken}&page=1 failed: ` +
        `{"error":"invalid_token","refresh_token":"${credential.refreshToken}"}`,
      headers:
        `{Authorization=[Bearer ${credential.accessToken}], Cookie=[ASP.NET_SessionId=${sessionId}], ` +
        'Accept=[application/json]}',
    },
    {
      id: randomUUID(),
      createdDate: at(4),
      statusCode: '302',
      body: `redirected to ${callbackUrl}?code=${code}&state=abc&id_token=${idToken}`,
      headers: `Location: ${callbackUrl}?code=${code}&state=abc\nSet-Cookie: idsrv.session=${sessionId}; path=/`,
    },
    {
      id: randomUUID(),
      createdDate: at(5),
      statusCode: 200,
      body: JSON.stringify({ growers: 3, status: 'synced', note: `token_type=Bearer` }),
      headers: JSON.stringify({ 'Content-Type': 'application/json' }),
    },
    {
      // Leaf cuts long bodies off: this one ends right after the refresh token, before its closing quote.
      id: randomUUID(),
      createdDate: at(6),
      statusCode: '200',
      body: JSON.stringify({ token_type: 'Bearer', refresh_token: truncatedRefreshToken }).slice(0, -2),
      headers: JSON.stringify({ 'Content-Type': 'application/json' }),
    },
  ]
  const secrets = [
    credential.refreshToken,
    credential.accessToken,
    credential.clientSecret,
    rotatedRefreshToken,
    truncatedRefreshToken,
    idToken,
    basic,
    sessionId,
    code,
  ]
  return { events, secrets }
}

function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const header = encode({ alg: 'RS256', typ: 'JWT' })
  const payload = encode({ ...claims, iat: Math.floor(Date.now() / 1000) })
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`
}
