import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

import { Redis } from 'ioredis'

import { call, leafTokenSource } from './upstream.js'

/*
 * The bare limit: node:http + ioredis doing only the unavoidable work of raven-connect's routes.
 *   launch:   one atomic token consume (GETDEL), random state / verifier / nonce, the S256 challenge,
 *             one flow write with TTL, a 303 with the session cookie.
 *   callback: take the flow (GETDEL, bound to the cookie's session id), one token request, the ID
 *             token's nonce compared, one Leaf POST, a 303 to returnTo.
 *   connect-session creation: bearer check, JSON body, Leaf GET user, random token stored with TTL, 201.
 *   connection status: bearer check, Leaf GET credential, 200 JSON.
 * No framework, no logging, no metrics, no rate limit, no signed cookie: a floor, not a product.
 * Connect tokens use raven-connect's Redis format (rc:cs:<sha256 hex>) so one preparation serves all.
 */
const env = process.env
const port = Number(env.PORT ?? '0')
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: true })
redis.on('error', () => undefined)
const authorize = env.RAVEN_AUTHORIZATION_ENDPOINT as string
const tokenEndpoint = env.RAVEN_TOKEN_ENDPOINT as string
const clientId = env.RAVEN_CLIENT_ID as string
const clientSecret = env.RAVEN_CLIENT_SECRET as string
const redirectUri = `${env.PUBLIC_BASE_URL}/connect/raven/callback`
const leafApi = `${env.LEAF_API_URL}/services/usermanagement/api`
const userAgent = 'bench-baseline'
const leafToken = leafTokenSource(env.LEAF_API_URL as string, env.LEAF_USERNAME as string, env.LEAF_PASSWORD as string, userAgent)
const apiKeyDigest = sha256(env.API_KEYS as string)
const basicAuth = 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')
const authorizePrefix = `${authorize}?response_type=code&client_id=${encodeURIComponent(clientId)}&redirect_uri=${encodeURIComponent(redirectUri)}&scope=openid%20offline_access&prompt=consent&code_challenge_method=S256`
const FLOW_TTL_MS = 15 * 60 * 1000

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function random(): string {
  return randomBytes(32).toString('base64url')
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body = ''): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

async function launch(query: URLSearchParams, res: ServerResponse): Promise<void> {
  const token = query.get('session') ?? ''
  const raw = await redis.getdel('rc:cs:' + createHash('sha256').update(token).digest('hex'))
  if (!raw) return send(res, 410, { 'content-type': 'text/html' }, '<p>This link was used or expired.</p>')
  const record = JSON.parse(raw) as { leafUserId: string; returnTo?: string }
  const sid = random()
  const state = random()
  const verifier = random()
  const nonce = random()
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const flow = JSON.stringify({ sid, verifier, nonce, leafUserId: record.leafUserId, returnTo: record.returnTo })
  await redis.set(`bl:flow:${state}`, flow, 'PX', FLOW_TTL_MS)
  send(res, 303, {
    location: `${authorizePrefix}&state=${state}&nonce=${nonce}&code_challenge=${challenge}`,
    'set-cookie': `bl.sid=${sid}; Path=/; HttpOnly; SameSite=Lax; Max-Age=900`,
    'cache-control': 'no-store',
  })
}

async function callback(req: IncomingMessage, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const state = query.get('state') ?? ''
  const code = query.get('code') ?? ''
  const sid = /(?:^|;\s*)bl\.sid=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? '')?.[1]
  const raw = sid && state ? await redis.getdel(`bl:flow:${state}`) : null
  const flow = raw ? (JSON.parse(raw) as { sid: string; verifier: string; nonce: string; leafUserId: string; returnTo: string }) : undefined
  if (!flow || flow.sid !== sid) return send(res, 400, { 'content-type': 'text/html' }, '<p>Start again from the app.</p>')
  const form = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(redirectUri)}&code_verifier=${flow.verifier}`
  const reply = await call(tokenEndpoint, 'POST', { authorization: basicAuth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': userAgent }, form)
  const tokens = JSON.parse(reply.body) as { refresh_token?: string; id_token?: string }
  const claims = JSON.parse(Buffer.from(tokens.id_token?.split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as { nonce?: string }
  if (reply.status !== 200 || !tokens.refresh_token || claims.nonce !== flow.nonce) return send(res, 303, { location: `${flow.returnTo}?raven=error&reason=token_exchange_failed` })
  const credential = JSON.stringify({ clientId, clientSecret, refreshToken: tokens.refresh_token })
  const stored = await call(`${leafApi}/users/${flow.leafUserId}/raven-credentials`, 'POST', leafHeaders(await leafToken()), credential)
  const result = stored.status === 201 || stored.status === 200 ? 'raven=connected' : 'raven=error&reason=leaf_rejected'
  send(res, 303, { location: `${flow.returnTo}?${result}`, 'cache-control': 'no-store' })
}

function leafHeaders(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json', 'user-agent': userAgent }
}

function authorized(req: IncomingMessage): boolean {
  const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
  return key !== undefined && timingSafeEqual(sha256(key), apiKeyDigest)
}

async function createConnectSession(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { leafUserId?: string; returnTo?: string }
  const leafUserId = body.leafUserId ?? ''
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(leafUserId)) return send(res, 400, { 'content-type': 'application/problem+json' }, '{"code":"invalid_leaf_user_id"}')
  const user = await call(`${leafApi}/users/${leafUserId}`, 'GET', leafHeaders(await leafToken()))
  if (user.status !== 200) return send(res, 404, { 'content-type': 'application/problem+json' }, '{"code":"leaf_user_not_found"}')
  const token = 'rc_cs_' + random()
  const now = Date.now()
  const record = { id: 'cs_' + randomBytes(12).toString('base64url'), leafUserId, mode: 'redirect', returnTo: body.returnTo, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 900_000).toISOString() }
  await redis.set('rc:cs:' + createHash('sha256').update(token).digest('hex'), JSON.stringify(record), 'EX', 900)
  const reply = JSON.stringify({ id: record.id, connectUrl: `${env.PUBLIC_BASE_URL}/connect/raven?session=${token}`, leafUserId, expiresAt: record.expiresAt })
  send(res, 201, { 'content-type': 'application/json', 'cache-control': 'no-store' }, reply)
}

async function connectionStatus(leafUserId: string, res: ServerResponse): Promise<void> {
  const reply = await call(`${leafApi}/users/${leafUserId}/raven-credentials`, 'GET', leafHeaders(await leafToken()))
  if (reply.status === 404) return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ leafUserId, connected: false, pending: false }))
  const credential = JSON.parse(reply.body) as { id: string; status: string; createdTime: string; tokenMetadata?: { scopes?: string[] } }
  const status = { leafUserId, connected: true, pending: false, status: credential.status, credentialId: credential.id, createdTime: credential.createdTime, scopes: credential.tokenMetadata?.scopes ?? [] }
  send(res, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' }, JSON.stringify(status))
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
  if (path === '/connect/raven' && req.method === 'GET') return launch(query, res)
  if (path === '/connect/raven/callback' && req.method === 'GET') return callback(req, query, res)
  if (path === '/healthz') return send(res, 200, { 'content-type': 'text/plain' }, 'ok')
  if (!path.startsWith('/v1/')) return send(res, 404, {})
  if (!authorized(req)) return send(res, 401, { 'www-authenticate': 'Bearer' })
  if (path === '/v1/connect-sessions' && req.method === 'POST') return createConnectSession(req, res)
  const status = /^\/v1\/users\/([A-Za-z0-9_-]{1,64})\/raven-connection$/.exec(path)
  if (status && req.method === 'GET') return connectionStatus(status[1] as string, res)
  send(res, 404, {})
}

const server = createServer({ keepAlive: true }, (req, res) => {
  route(req, res).catch(() => {
    if (!res.headersSent) send(res, 500, {})
  })
})
server.keepAliveTimeout = 5000
await redis.ping()
server.listen(port, '127.0.0.1')
