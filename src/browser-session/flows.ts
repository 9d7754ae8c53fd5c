import { createHash } from 'node:crypto'

import type { Request } from 'express'
import type { Session, SessionData } from 'express-session'

import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import { CONNECTED_TTL_MS, FLOW_TTL_MS, flowRecordOf, type FlowRecord, type StoredFlow } from './session-data.js'

/** At most this many flows per browser (tabs); the oldest go first. Keeps session payloads small. */
const MAX_FLOWS_PER_SESSION = 5

export function stateKey(state: string): string {
  return createHash('sha256').update(state).digest('base64url')
}

export function isLive(flow: Pick<FlowRecord, 'createdAt'>, now = Date.now()): boolean {
  return now - flow.createdAt < FLOW_TTL_MS
}

/**
 * Starts a flow in this browser under a fresh session id (no fixation), and saves the session before
 * the caller redirects to Raven. Other tabs' flows and a recently connected Leaf user survive the new id;
 * the old id (maybe planted by an attacker) dies. Without our cookie the session was just generated
 * here (express-session never adopts an id it did not issue), so there is no old id: the regenerate and
 * its Redis DEL are skipped.
 */
export async function startFlow(req: Request, cookieName: string, state: string, flow: StoredFlow): Promise<void> {
  const previousFlows = req.session.flows
  const previousConnected = req.session.connected
  if (carriesCookie(req, cookieName)) await regenerateSession(req.session)
  req.session.flows = withFlow(previousFlows, state, flow)
  if (previousConnected && previousConnected.until > Date.now()) req.session.connected = previousConnected
  req.session.cookie.maxAge = Math.max(FLOW_TTL_MS, Math.min(CONNECTED_TTL_MS, (previousConnected?.until ?? 0) - Date.now()))
  await saveSession(req.session)
}

export type TakeFlowResult =
  | { kind: 'taken'; flow: FlowRecord }
  | { kind: 'no_session' }
  | { kind: 'unknown_state' }
  | { kind: 'expired'; flow: FlowRecord }
  | { kind: 'spent' }

/**
 * Takes the flow for `state` out of the session before anything else happens, so a replay finds
 * nothing. Two concurrent callbacks can both read the flow from their copy of the session; the
 * `SET NX` claim in Redis lets exactly one of them (on any instance) proceed to the code exchange.
 * The claim, not a session write, is what stops a replay, so the session is written once per
 * callback: by the callback's own save, or by express-session at the end of the response (it saves
 * a modified session before the response ends).
 */
export async function takeFlow(session: Session & Partial<SessionData>, state: string, redis: Redis): Promise<TakeFlowResult> {
  const flows = session.flows
  // A session that ever held a flow keeps its (maybe empty) `flows`: a state matching nothing there was
  // spent (a replay, or the loser of concurrent callbacks) or is foreign, which is not an expired session.
  if (!flows) return session.connected ? { kind: 'unknown_state' } : { kind: 'no_session' }
  const key = stateKey(state)
  const stored = flows[key]
  if (!stored) return { kind: 'unknown_state' }
  const flow = flowRecordOf(stored)
  const claimed = await redis.set(redisKeys.stateClaim(key), '1', 'PX', FLOW_TTL_MS, 'NX')
  delete flows[key]
  session.flows = flows
  if (claimed !== 'OK') return { kind: 'spent' }
  if (!isLive(flow)) return { kind: 'expired', flow }
  return { kind: 'taken', flow }
}

/** The live flows of a session plus a new one, oldest dropped beyond the cap. */
function withFlow(flows: SessionData['flows'], state: string, flow: StoredFlow): Record<string, StoredFlow> {
  const now = Date.now()
  const live = Object.entries(flows ?? {}).filter(([, existing]) => isLive(existing, now))
  live.sort(([, a], [, b]) => a.createdAt - b.createdAt)
  const kept = live.slice(Math.max(0, live.length - (MAX_FLOWS_PER_SESSION - 1)))
  return Object.fromEntries([...kept, [stateKey(state), flow]])
}

/** Whether the request carries a cookie named `name` (signed or not: express-session checks that). */
export function carriesCookie(req: Request, name: string): boolean {
  const header = req.headers.cookie
  return header !== undefined && header.split(';').some((pair) => pair.trimStart().startsWith(`${name}=`))
}

export function saveSession(session: Session): Promise<void> {
  return new Promise((resolve, reject) => session.save((err) => (err ? reject(err) : resolve())))
}

function regenerateSession(session: Session): Promise<void> {
  return new Promise((resolve, reject) => session.regenerate((err) => (err ? reject(err) : resolve())))
}
