import { randomBytes } from 'node:crypto'

import { sign } from 'cookie-signature'
import session from 'express-session'

import type { Config } from '../config/load-config.js'
import { redisKeys } from '../infra/keys.js'
import { sessionCookieName, sessionCookieOptions } from './session-middleware.js'
import { FLOW_TTL_MS, type FlowRecord } from './session-data.js'
import { stateKey } from './flows.js'

/**
 * A new browser session holding one flow, written by the launch's Redis script in the same step that
 * takes the connect link (connect-links/token-store.ts `launch`). The script cannot run JavaScript, so
 * the session's JSON is prepared here with a slot for the link's record: the script writes
 * `head + <the link's JSON as stored> + tail`.
 *
 * Everything here is what express-session and connect-redis would write for the same session, built
 * with their own pieces (express-session's Cookie, cookie-signature), so the callback loads it through
 * the ordinary session middleware: the key `rc:sess:<id>`, `{"cookie": …, "flows": …}` with the TTL of
 * the cookie's expiry, and the cookie value `s:<id>.<HMAC under the first SESSION_SECRET>`.
 */
export interface LaunchSession {
  /** The Redis key of the new session. */
  key: string
  head: string
  tail: string
  ttlSeconds: number
  /** The Set-Cookie header value to send with the 303, once the script has written the session. */
  setCookie: string
}

export type LaunchFlow = Pick<FlowRecord, 'createdAt' | 'codeVerifier' | 'nonce'>

/** Where the link's JSON goes: a string JSON.stringify cannot produce from the flow's own values. */
const LINK_SLOT = '\u0000link'
const LINK_SLOT_JSON = JSON.stringify(LINK_SLOT)

/** express-session's Cookie as it is at run time (its published types omit these two members). */
type SessionCookie = session.Cookie & { serialize(name: string, value: string): string }
const Cookie = session.Cookie as unknown as new (options: session.CookieOptions) => SessionCookie

export function createLaunchSessions(config: Config) {
  const cookieName = sessionCookieName(config)
  const cookieOptions = sessionCookieOptions(config)
  const signingSecret = config.sessionSecrets[0] as string
  return {
    /** A fresh session id and the session that holds `flow` under `state`, for a browser without one. */
    create(state: string, flow: LaunchFlow): LaunchSession {
      // What express-session's default genid produces: 24 random bytes, base64url.
      const id = randomBytes(24).toString('base64url')
      const cookie = new Cookie({ ...cookieOptions, maxAge: FLOW_TTL_MS })
      const json = JSON.stringify({ cookie, flows: { [stateKey(state)]: { ...flow, link: LINK_SLOT } } })
      const [head, tail, rest] = json.split(LINK_SLOT_JSON)
      if (head === undefined || tail === undefined || rest !== undefined) throw new Error('launch session: the link slot must appear exactly once')
      return {
        key: redisKeys.sessionPrefix + id,
        head,
        tail,
        // connect-redis's TTL: the seconds until the cookie expires, rounded up.
        ttlSeconds: Math.ceil(FLOW_TTL_MS / 1000),
        setCookie: cookie.serialize(cookieName, `s:${sign(id, signingSecret)}`),
      }
    },
  }
}

export type LaunchSessions = ReturnType<typeof createLaunchSessions>
