import { isLeafError, type LeafClient } from '../leaf/client.js'
import { ALERT_EVENTS, registrationStatus, type RegistrationStatus } from '../leaf-alerts/registration.js'
import { fail, pass, type Verdict } from './check.js'
import { describeUnreachable } from './leaf-unreachable.js'

export interface AlertsCheckInput {
  publicBaseUrl: string
  /** LEAF_ALERTS_SECRET: compared by the Leaf client where Leaf shows the webhook's secret, never printed. */
  secret: string
  apiUrl: string
  checkTimeoutMs: number
  signal: AbortSignal
}

/**
 * Leaf Alerts: `{PUBLIC_BASE_URL}/leaf/alerts` holds both credential events (an event belongs to one
 * webhook only) with LEAF_ALERTS_SECRET. Judged by issue 12's `registrationStatus`, the same reading as
 * `npm run leaf-alerts -- status`, so the two cannot disagree. Reads only; `register` changes it.
 */
export async function checkAlertsRegistration(leaf: LeafClient, input: AlertsCheckInput): Promise<Verdict> {
  let status: RegistrationStatus
  try {
    status = await registrationStatus(leaf, input.publicBaseUrl, { secret: input.secret, signal: input.signal })
  } catch (err) {
    const unreachable = describeUnreachable(err, input.apiUrl, input.checkTimeoutMs)
    if (unreachable !== undefined) return fail(unreachable)
    if (!isLeafError(err)) throw err
    const shape = err.kind === 'invalid_response' ? ' in an unknown shape' : ''
    return fail(`Leaf’s Alerts webhook list answered ${err.status}${shape}: could not see the registration`)
  }
  if (status.complete) {
    const unverified = status.ours.some((webhook) => webhook.secretMatches === undefined)
    return pass(`Leaf sends ${ALERT_EVENTS.join(' and ')} to ${status.url}${unverified ? '; Leaf does not show the webhook’s secret, so it was not compared with LEAF_ALERTS_SECRET' : ''}`)
  }
  const problems = ALERT_EVENTS.flatMap((event) => {
    const elsewhere = status.blocking.find((webhook) => webhook.events.includes(event))
    if (elsewhere !== undefined) return [`${event} goes to ${elsewhere.url}`]
    return status.ours.some((webhook) => webhook.events.includes(event)) ? [] : [`${event} is not registered`]
  })
  if (problems.length > 0) {
    const fix = status.blocking.length > 0 ? 'npm run leaf-alerts -- register --replace (it deletes the webhook named above and registers this service)' : 'npm run leaf-alerts -- register'
    return fail(`the Alerts registration does not point at ${status.url}: ${problems.join('; ')}. Run ${fix}`)
  }
  // Not complete with every event ours and none elsewhere: ours carries another secret.
  return fail(`the Alerts webhook for ${status.url} was registered with another secret than LEAF_ALERTS_SECRET: every alert would be refused. Run npm run leaf-alerts -- register (it replaces that webhook)`)
}
