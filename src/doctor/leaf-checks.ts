import type { Config } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import { LeafClient, isLeafError, type LeafAccessProof } from '../leaf/client.js'
import { fail, notChecked, pass, warn, type Area, type Outcome, type Verdict } from './check.js'
import { checkAlertsRegistration } from './leaf-alerts-check.js'
import { describeUnreachable } from './leaf-unreachable.js'

/** A static LEAF_API_TOKEN closer than this to its expiry is a warning: nothing renews it. */
const EXPIRY_WARNING_MS = 7 * 24 * 3600 * 1000

/**
 * Leaf, through the service's own Leaf client: the login (or LEAF_API_TOKEN) works, its token is not
 * about to expire, and the Alerts registration points at this service. Nothing is created: the token
 * is proven on a lookup of a user id that cannot exist, the registration only listed.
 */
export function leafArea(config: Config, logger: Logger, alertsSecret: string | undefined, checkTimeoutMs: number): Area {
  // One try per call, no longer than a check: the doctor reports an outage, it does not wait it out.
  const leaf = new LeafClient({ apiUrl: config.leaf.apiUrl, auth: config.leaf.auth, timeoutMs: checkTimeoutMs, retry: { attempts: 1 }, logger })
  return async (run) => {
    const proof = await run.check<LeafAccessProof>('leaf.auth', async (signal) => {
      try {
        const value = await leaf.proveAccess({ signal })
        const auth = config.leaf.auth
        return { ...pass('token' in auth ? 'Leaf accepts LEAF_API_TOKEN' : `Leaf accepts the login of ${auth.username}`), value }
      } catch (err) {
        return describeAccessFailure(config, err, checkTimeoutMs)
      }
    })
    if (proof === undefined) {
      run.report('leaf.token-expiry', notChecked('no Leaf token'))
      run.report('leaf.alerts', notChecked('no Leaf token'))
      return
    }
    run.report('leaf.token-expiry', checkExpiry(proof))
    if (alertsSecret === undefined) {
      run.report('leaf.alerts', warn('not checked: LEAF_ALERTS_SECRET is not set, so the service cannot learn that a grower’s Raven connection broke'))
      return
    }
    await run.check('leaf.alerts', (signal) => checkAlertsRegistration(leaf, { publicBaseUrl: config.publicBaseUrl, secret: alertsSecret, apiUrl: config.leaf.apiUrl, checkTimeoutMs, signal }))
  }
}

/** What a failed proof of access means to an operator: the login, the token, or where LEAF_API_URL points. */
function describeAccessFailure(config: Config, err: unknown, checkTimeoutMs: number): Outcome<never> {
  const apiUrl = config.leaf.apiUrl
  const unreachable = describeUnreachable(err, apiUrl, checkTimeoutMs)
  if (unreachable !== undefined) return fail(unreachable)
  if (!isLeafError(err) || err.status === undefined) throw err
  const { status } = err
  const auth = config.leaf.auth
  if (err.operation === 'authenticate' && !('token' in auth)) {
    if (err.kind === 'unauthorized') {
      return fail(`Leaf refused the login of LEAF_USERNAME ${auth.username} (status ${status}): check LEAF_PASSWORD (changed? a stray space?) and LEAF_USERNAME`)
    }
    if (status >= 300 && status < 400) return fail(`${apiUrl}/api/authenticate answered a redirect (${status}): LEAF_API_URL must be Leaf’s API origin, e.g. https://api.withleaf.io`)
    return fail(`${apiUrl}/api/authenticate answered ${status} without an id_token: is LEAF_API_URL Leaf’s API origin?`)
  }
  const what = 'token' in auth ? 'LEAF_API_TOKEN' : 'the token from the login'
  if (status === 401 || status === 403) {
    return fail(`Leaf refused ${what} (status ${status})${'token' in auth ? ': it expired or was revoked; get a new one, or use LEAF_USERNAME and LEAF_PASSWORD' : ''}`)
  }
  return fail(`Leaf answered ${status} to a user lookup with ${what}: is LEAF_API_URL Leaf’s API origin?`)
}

function checkExpiry(proof: LeafAccessProof): Verdict {
  const isStatic = proof.via === 'token'
  if (proof.expiresAt === null) {
    return isStatic ? warn('LEAF_API_TOKEN has no readable expiry: when Leaf stops accepting it, every delivery fails; prefer LEAF_USERNAME and LEAF_PASSWORD') : pass('the login’s token has no readable expiry; the service logs in again on a 401')
  }
  const left = proof.expiresAt.getTime() - Date.now()
  const at = proof.expiresAt.toISOString()
  const when = `${at} (in ${describeDuration(left)})`
  if (!isStatic) return pass(`the login’s token expires ${when}; the service logs in again before then`)
  if (left <= 0) return fail(`LEAF_API_TOKEN expired at ${at}: get a new one, or use LEAF_USERNAME and LEAF_PASSWORD`)
  if (left < EXPIRY_WARNING_MS) return warn(`LEAF_API_TOKEN expires ${when} and nothing renews it: replace it before then, or use LEAF_USERNAME and LEAF_PASSWORD`)
  return pass(`LEAF_API_TOKEN expires ${when}; replace it before then, or use LEAF_USERNAME and LEAF_PASSWORD`)
}

function describeDuration(ms: number): string {
  const hours = Math.max(0, ms) / 3600_000
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : hours >= 1 ? `${Math.floor(hours)} h` : `${Math.max(0, Math.floor(ms / 60_000))} min`
}
