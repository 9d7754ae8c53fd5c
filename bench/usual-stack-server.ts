import { createHash, randomBytes } from 'node:crypto'

import { RedisStore } from 'connect-redis'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import { Redis } from 'ioredis'

/*
 * The "usual stack" reference: the same routes written the way an Express 5 + express-session +
 * connect-redis tutorial would write them (README settings: resave false, saveUninitialized false),
 * global fetch for upstream calls. No logging, metrics, security headers or rate limits, so it is, if
 * anything, flattered against raven-connect.
 */
const env = process.env
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379')
redis.on('error', () => undefined)
const userAgent = 'bench-usual-stack'
const leafApi = `${env.LEAF_API_URL}/services/usermanagement/api`
const redirectUri = `${env.PUBLIC_BASE_URL}/connect/raven/callback`

declare module 'express-session' {
  interface SessionData {
    oauth?: Record<string, { verifier: string; nonce: string; leafUserId: string; returnTo: string }>
  }
}

let leafToken: { token: string; renewAt: number } | undefined
async function getLeafToken(): Promise<string> {
  if (leafToken && Date.now() < leafToken.renewAt) return leafToken.token
  const res = await fetch(`${env.LEAF_API_URL}/api/authenticate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ username: env.LEAF_USERNAME, password: env.LEAF_PASSWORD, rememberMe: 'true' }),
  })
  const { id_token: token } = (await res.json()) as { id_token: string }
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number; iat: number }
  leafToken = { token, renewAt: claims.exp * 1000 - Math.min(60_000, ((claims.exp - claims.iat) * 1000) / 2) }
  return token
}

async function leaf(path: string, init: RequestInit = {}): Promise<globalThis.Response> {
  const token = await getLeafToken()
  return fetch(`${leafApi}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': userAgent },
  })
}

const app = express()
app.use(
  session({
    store: new RedisStore({ client: redis, prefix: 'us:sess:' }),
    secret: env.SESSION_SECRET as string,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 15 * 60 * 1000 },
  }),
)
app.use(express.json())

app.get('/healthz', (_req, res) => void res.send('ok'))

app.get('/connect/raven', async (req, res) => {
  const token = String(req.query.session ?? '')
  const raw = await redis.getdel('rc:cs:' + createHash('sha256').update(token).digest('hex'))
  if (!raw) return void res.status(410).send('This link was used or expired.')
  const record = JSON.parse(raw) as { leafUserId: string; returnTo: string }
  const state = randomBytes(32).toString('base64url')
  const verifier = randomBytes(32).toString('base64url')
  const nonce = randomBytes(32).toString('base64url')
  req.session.oauth = { ...req.session.oauth, [state]: { verifier, nonce, leafUserId: record.leafUserId, returnTo: record.returnTo } }
  const url = new URL(env.RAVEN_AUTHORIZATION_ENDPOINT as string)
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: env.RAVEN_CLIENT_ID as string,
    redirect_uri: redirectUri,
    scope: 'openid offline_access',
    prompt: 'consent',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString()
  res.redirect(303, url.href)
})

app.get('/connect/raven/callback', async (req, res) => {
  const state = String(req.query.state ?? '')
  const flow = req.session.oauth?.[state]
  if (!flow) return void res.status(400).send('Start again from the app.')
  delete req.session.oauth![state]
  const tokenRes = await fetch(env.RAVEN_TOKEN_ENDPOINT as string, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${env.RAVEN_CLIENT_ID}:${env.RAVEN_CLIENT_SECRET}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': userAgent,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: String(req.query.code ?? ''), redirect_uri: redirectUri, code_verifier: flow.verifier }),
  })
  const tokens = (await tokenRes.json()) as { refresh_token?: string; id_token?: string }
  const claims = JSON.parse(Buffer.from(tokens.id_token?.split('.')[1] ?? '', 'base64url').toString() || '{}') as { nonce?: string }
  if (!tokenRes.ok || !tokens.refresh_token || claims.nonce !== flow.nonce) return void res.redirect(303, `${flow.returnTo}?raven=error&reason=token_exchange_failed`)
  const stored = await leaf(`/users/${flow.leafUserId}/raven-credentials`, {
    method: 'POST',
    body: JSON.stringify({ clientId: env.RAVEN_CLIENT_ID, clientSecret: env.RAVEN_CLIENT_SECRET, refreshToken: tokens.refresh_token }),
  })
  await stored.text()
  res.redirect(303, `${flow.returnTo}?raven=${stored.ok ? 'connected' : 'error&reason=leaf_rejected'}`)
})

const requireKey = (req: Request, res: Response, next: NextFunction) => {
  if (req.headers.authorization !== `Bearer ${env.API_KEYS}`) return void res.status(401).json({ error: 'unauthorized' })
  next()
}

app.post('/v1/connect-sessions', requireKey, async (req, res) => {
  const { leafUserId, returnTo } = req.body as { leafUserId: string; returnTo: string }
  const user = await leaf(`/users/${encodeURIComponent(leafUserId)}`)
  await user.text()
  if (!user.ok) return void res.status(404).json({ error: 'leaf_user_not_found' })
  const token = 'rc_cs_' + randomBytes(32).toString('base64url')
  const now = Date.now()
  const record = { id: 'cs_' + randomBytes(12).toString('base64url'), leafUserId, mode: 'redirect', returnTo, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + 900_000).toISOString() }
  await redis.set('rc:cs:' + createHash('sha256').update(token).digest('hex'), JSON.stringify(record), 'EX', 900)
  res.status(201).json({ id: record.id, connectUrl: `${env.PUBLIC_BASE_URL}/connect/raven?session=${token}`, leafUserId, expiresAt: record.expiresAt })
})

app.get('/v1/users/:leafUserId/raven-connection', requireKey, async (req, res) => {
  const leafUserId = req.params.leafUserId as string
  const reply = await leaf(`/users/${encodeURIComponent(leafUserId)}/raven-credentials`)
  if (reply.status === 404) return void res.json({ leafUserId, connected: false, pending: false })
  const credential = (await reply.json()) as { id: string; status: string; createdTime: string; tokenMetadata?: { scopes?: string[] } }
  res.json({ leafUserId, connected: true, pending: false, status: credential.status, credentialId: credential.id, createdTime: credential.createdTime, scopes: credential.tokenMetadata?.scopes ?? [] })
})

app.listen(Number(env.PORT ?? '0'), '127.0.0.1')
