import { RedisStore } from 'connect-redis'
import session from 'express-session'
import type { RequestHandler } from 'express'

import type { Config } from '../config/load-config.js'
import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'
import { FLOW_TTL_MS } from './session-data.js'

/** `__Host-` makes browsers insist on Secure, Path=/ and no Domain: a host-only cookie by construction. */
export function sessionCookieName(config: Config): string {
  return config.secureCookies ? '__Host-raven-connect' : 'raven-connect.sid'
}

/** The session cookie's attributes, shared by the middleware and the launch's fresh sessions. */
export function sessionCookieOptions(config: Config): { httpOnly: true; secure: boolean; sameSite: 'none' | 'lax'; path: '/' } {
  return {
    httpOnly: true,
    secure: config.secureCookies,
    // Lax is sent on Raven's top-level redirect back; Strict would not be. form_post is a cross-site
    // POST, which only a SameSite=None cookie survives.
    sameSite: config.raven.responseMode === 'form_post' ? 'none' : 'lax',
    path: '/',
  }
}

/**
 * express-session backed by connect-redis 8 (the last major that accepts ioredis). Sessions exist only
 * for browsers that started a flow: `saveUninitialized: false` writes nothing for requests that never
 * start one, and `resave: false` writes only when a flow step changed the session.
 */
export function createSessionMiddleware(config: Config, redis: Redis): RequestHandler {
  const store = new RedisStore({ client: redis, prefix: redisKeys.sessionPrefix })
  const middleware = session({
    name: sessionCookieName(config),
    secret: config.sessionSecrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    cookie: { ...sessionCookieOptions(config), maxAge: FLOW_TTL_MS },
  })
  // Store failures (Redis down) reach the error handlers, which answer 503.
  return (req, res, next) =>
    middleware(req, res, (err?: unknown) => {
      // A store error leaves req.session unset, and with `unset: 'destroy'` express-session would then
      // DEL the session when the response ends: a Redis that hung for a moment (the DEL runs once it
      // answers) would cost the grower a flow in progress. Without a session id there is nothing to delete.
      if (err) req.sessionID = undefined as unknown as string
      next(err)
    })
}
