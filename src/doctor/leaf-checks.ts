import { randomBytes } from 'node:crypto'

import type { Config } from '../config/load-config.js'
import { decodeJwtPayload } from '../leaf/token.js'
import { fail, notChecked, pass, warn, type Area, type Outcome, type Verdict } from './check.js'
import { describeNetworkError, jsonOf, request } from './http.js'
import { checkAlertsRegistration } from './leaf-alerts-check.js'

/** A static LEAF_API_TOKEN closer than this to its expiry is a warning: nothing renews it. */
const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000

/**
 * Leaf: the login (or LEAF_API_TOKEN) works, its token is not about to expire, and the Alerts
 * registration points at this service. The token is proven on a lookup of a user id that cannot
 * exist, so nothing is read and nothing is created.
 */
export function leafArea(config: Config, alertsSecret: string | undefined): Area {
  return async (run) => {
    const auth = config.leaf.auth
    const token = await run.check<string>('leaf.auth', async (signal) => {
      if ('token' in auth) {
        const verdict = await proveToken(config, auth.token, 'LEAF_API_TOKEN', signal)
        return verdict.result === 'pass' ? { ...verdict, value: auth.token } : verdict
      }
      const login = await logIn(config, auth, signal)
      if (!login.value) return login
      const verdict = await proveToken(config, login.value, 'the token from the login', signal)
      return verdict.result === 'pass' ? { ...pass(`Leaf accepts the login of ${auth.username}`), value: login.value } : verdict
    })
    if (token === undefined) {
      run.report('leaf.token-expiry', notChecked('no Leaf token'))
      run.report('leaf.alerts', notChecked('no Leaf token'))
      return
    }
    run.report('leaf.token-expiry', checkExpiry(token, 'token' in auth))
    if (alertsSecret === undefined) {
      run.report('leaf.alerts', warn('not checked: LEAF_ALERTS_SECRET is not set, so the service cannot learn that a grower’s Raven connection broke'))
      return
    }
    await run.check('leaf.alerts', (signal) => checkAlertsRegistration({ apiUrl: config.leaf.apiUrl, token, publicBaseUrl: config.publicBaseUrl, secret: alertsSecret, signal }))
  }
}

async function logIn(config: Config, login: { username: string; password: string }, signal: AbortSignal): Promise<Outcome<string>> {
  const url = `${config.leaf.apiUrl}/api/authenticate`
  let reply
  try {
    reply = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: login.username, password: login.password, rememberMe: 'true' }),
      signal,
    })
  } catch (err) {
    return fail(`${url}: ${describeNetworkError(err)}. Check LEAF_API_URL and the network`)
  }
  if (reply.status === 400 || reply.status === 401 || reply.status === 403) {
    return fail(`Leaf refused the login of LEAF_USERNAME ${login.username} (status ${reply.status}): check LEAF_PASSWORD (changed? a stray space?) and LEAF_USERNAME`)
  }
  if (reply.status >= 300 && reply.status < 400) return fail(`${url} answered a redirect (${reply.status}): LEAF_API_URL must be Leaf’s API origin, e.g. https://api.withleaf.io`)
  const token = (jsonOf(reply) as { id_token?: unknown } | undefined)?.id_token
  if (reply.status !== 200 || typeof token !== 'string' || token === '') {
    return fail(`${url} answered ${reply.status} without an id_token: is LEAF_API_URL Leaf’s API origin?`)
  }
  return { ...pass('login accepted'), value: token }
}

/** A bearer token works when Leaf answers a lookup of a made-up user with 404 (or 400), not 401. */
async function proveToken(config: Config, token: string, what: string, signal: AbortSignal): Promise<Verdict> {
  const probe = `doctor-${randomBytes(8).toString('hex')}`
  const url = `${config.leaf.apiUrl}/services/usermanagement/api/users/${probe}`
  let reply
  try {
    reply = await request(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal })
  } catch (err) {
    return fail(`${config.leaf.apiUrl}: ${describeNetworkError(err)}. Check LEAF_API_URL and the network`)
  }
  if (reply.status === 401 || reply.status === 403) {
    return fail(`Leaf refused ${what} (status ${reply.status})${what === 'LEAF_API_TOKEN' ? ': it expired or was revoked; get a new one, or use LEAF_USERNAME and LEAF_PASSWORD' : ''}`)
  }
  if (reply.status === 404 || reply.status === 400) return pass(`Leaf accepts ${what}`)
  return fail(`Leaf answered ${reply.status} to a user lookup with ${what}: is LEAF_API_URL Leaf’s API origin?`)
}

function checkExpiry(token: string, isStatic: boolean): Verdict {
  const exp = decodeJwtPayload(token)?.exp
  if (typeof exp !== 'number') {
    return isStatic ? warn('LEAF_API_TOKEN has no readable expiry: when Leaf stops accepting it, every delivery fails; prefer LEAF_USERNAME and LEAF_PASSWORD') : pass('the login’s token has no readable expiry; the service logs in again on a 401')
  }
  const left = exp * 1000 - Date.now()
  const when = `${new Date(exp * 1000).toISOString()} (in ${describeDuration(left)})`
  if (!isStatic) return pass(`the login’s token expires ${when}; the service logs in again before then`)
  if (left <= 0) return fail(`LEAF_API_TOKEN expired at ${new Date(exp * 1000).toISOString()}: get a new one, or use LEAF_USERNAME and LEAF_PASSWORD`)
  if (left < EXPIRY_WARNING_MS) return warn(`LEAF_API_TOKEN expires ${when} and nothing renews it: replace it before then, or use LEAF_USERNAME and LEAF_PASSWORD`)
  return pass(`LEAF_API_TOKEN expires ${when}; replace it before then, or use LEAF_USERNAME and LEAF_PASSWORD`)
}

function describeDuration(ms: number): string {
  const hours = Math.max(0, ms) / 3600_000
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : hours >= 1 ? `${Math.floor(hours)} h` : `${Math.max(0, Math.floor(ms / 60_000))} min`
}
