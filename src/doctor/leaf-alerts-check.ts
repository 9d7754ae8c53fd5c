import { createHash, timingSafeEqual } from 'node:crypto'

import { fail, pass, type Verdict } from './check.js'
import { describeNetworkError, jsonOf, request } from './http.js'

/** The two alerts the service acts on (contract, "The life of a connection"). */
export const CREDENTIAL_EVENTS = ['credentialsUnauthenticated', 'credentialsLimitedPermission'] as const

interface Webhook {
  url: string
  events: string[]
  secret?: string
}

export interface AlertsCheckInput {
  apiUrl: string
  token: string
  publicBaseUrl: string
  secret: string
  signal: AbortSignal
}

/**
 * Leaf Alerts: `GET {LEAF_API_URL}/services/alerts/api/alerts/webhooks` lists the registrations; ours
 * must be `{PUBLIC_BASE_URL}/leaf/alerts` and hold both credential events (an event belongs to one
 * webhook only). When Leaf shows the secret, it must be LEAF_ALERTS_SECRET, compared in constant time
 * and never printed. Reads only; `npm run leaf-alerts -- register` is what changes it.
 */
export async function checkAlertsRegistration(input: AlertsCheckInput): Promise<Verdict> {
  const listUrl = `${input.apiUrl}/services/alerts/api/alerts/webhooks`
  const ours = `${input.publicBaseUrl}/leaf/alerts`
  let reply
  try {
    reply = await request(listUrl, { headers: { authorization: `Bearer ${input.token}`, accept: 'application/json' }, signal: input.signal })
  } catch (err) {
    return fail(`${listUrl}: ${describeNetworkError(err)}`)
  }
  const webhooks = reply.status === 200 ? webhooksOf(jsonOf(reply)) : undefined
  if (webhooks === undefined) return fail(`Leaf’s Alerts webhook list answered ${reply.status}${reply.status === 200 ? ' in an unknown shape' : ''}: could not see the registration`)

  const problems: string[] = []
  for (const event of CREDENTIAL_EVENTS) {
    const holder = webhooks.find((webhook) => webhook.events.includes(event))
    if (holder === undefined) problems.push(`${event} is not registered`)
    else if (holder.url !== ours) problems.push(`${event} goes to ${holder.url}`)
  }
  if (problems.length > 0) {
    return fail(`the Alerts registration does not point at ${ours}: ${problems.join('; ')}. Run npm run leaf-alerts -- register (--replace to take the events over)`)
  }
  const secrets = webhooks.filter((webhook) => webhook.url === ours && typeof webhook.secret === 'string').map((webhook) => webhook.secret as string)
  if (secrets.some((secret) => !sameSecret(secret, input.secret))) {
    return fail(`the Alerts webhook for ${ours} was registered with another secret than LEAF_ALERTS_SECRET: every alert would be refused. Run npm run leaf-alerts -- register --replace`)
  }
  return pass(`Leaf sends ${CREDENTIAL_EVENTS.join(' and ')} to ${ours}`)
}

function webhooksOf(body: unknown): Webhook[] | undefined {
  // A list, or a page object holding one (Leaf pages some lists).
  const list = Array.isArray(body) ? body : Object.values((body ?? {}) as Record<string, unknown>).find(Array.isArray)
  if (!Array.isArray(list)) return undefined
  return list.flatMap((item: unknown) => {
    const { url, events, secret } = (item ?? {}) as Record<string, unknown>
    if (typeof url !== 'string' || !Array.isArray(events)) return []
    return [{ url, events: events.filter((event): event is string => typeof event === 'string'), ...(typeof secret === 'string' && { secret }) }]
  })
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so the comparison leaks neither content nor length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
