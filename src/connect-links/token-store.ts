import { createHash, randomBytes } from 'node:crypto'

import type { Locale } from '../i18n/locales.js'
import { redisKeys } from '../infra/keys.js'
import type { Redis } from '../infra/redis.js'

/** What a connect session token stands for. Stored under the token's hash, never the token itself. */
export interface ConnectLink {
  id: string
  leafUserId: string
  returnTo?: string
  mode: 'redirect' | 'popup'
  /** The language of the flow's pages, when the host named one. */
  locale?: Locale
  createdAt: string
  expiresAt: string
}

/** Prefixed so a leaked token is recognisable in a scan; 32 random bytes = 256 bits. */
export const CONNECT_TOKEN_PREFIX = 'rc_cs_'

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** The rate-limit counter a launch counts against (the browser routes' limiter's own key). */
export interface LaunchCount {
  key: string
  limit: number
  windowMs: number
}

/** A new session to write with the link's record spliced between `head` and `tail` (browser-session/launch-session.ts). */
export interface LaunchWrite {
  key: string
  head: string
  tail: string
  ttlSeconds: number
}

export type LaunchTake = { kind: 'taken'; link: ConnectLink } | { kind: 'gone' } | { kind: 'limited'; retryAfterMs: number }

/*
 * The launch in one round trip: count the client (INCR; PEXPIRE when the window starts, as
 * rate-limit-redis does, so both count on the same key alike), stop there when over the limit (the
 * link stays unspent), take the link (GETDEL), refuse an expired one (ISO-8601 UTC strings compare
 * as time), and write the new session holding the flow. Loaded once per connection by ioredis
 * (defineCommand: EVALSHA, the body only after a NOSCRIPT), never re-sent per call.
 * KEYS: counter, link, session (unused when ARGV[4] is ''). ARGV: limit (0: off), window ms, now
 * (ISO), session head, session tail, session TTL seconds.
 */
const LAUNCH_SCRIPT = `
local limit = tonumber(ARGV[1])
if limit > 0 then
  local hits = redis.call('INCR', KEYS[1])
  if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  if hits > limit then return {'limited', redis.call('PTTL', KEYS[1])} end
end
local raw = redis.call('GETDEL', KEYS[2])
if not raw then return {'gone'} end
local ok, link = pcall(cjson.decode, raw)
if not ok or type(link) ~= 'table' or type(link.expiresAt) ~= 'string' or link.expiresAt <= ARGV[3] then return {'gone'} end
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4] .. raw .. ARGV[5], 'EX', ARGV[6]) end
return {'taken', raw}
`

/** Redis Cluster keeps the three keys in different slots: there the steps run one key at a time. */
const COUNT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if hits > tonumber(ARGV[2]) then return redis.call('PTTL', KEYS[1]) end
return -1
`

interface LaunchCommands {
  rcLaunch(counter: string, link: string, session: string, ...args: (string | number)[]): Promise<[string, (string | number)?]>
  rcCount(counter: string, windowMs: number, limit: number): Promise<number>
}

export function createConnectLinkStore(redis: Redis) {
  const commands = redis as unknown as Redis & LaunchCommands
  if (typeof commands.rcLaunch !== 'function') {
    redis.defineCommand('rcLaunch', { numberOfKeys: 3, lua: LAUNCH_SCRIPT })
    redis.defineCommand('rcCount', { numberOfKeys: 1, lua: COUNT_SCRIPT })
  }

  /** The same steps as LAUNCH_SCRIPT for Redis Cluster: the count is atomic, the rest one key at a time. */
  async function launchOnCluster(linkKey: string, count: LaunchCount | undefined, session: LaunchWrite | undefined): Promise<LaunchTake> {
    if (count && count.limit > 0) {
      const retryAfterMs = await commands.rcCount(count.key, count.windowMs, count.limit)
      if (retryAfterMs >= 0) return { kind: 'limited', retryAfterMs }
    }
    const raw = await redis.getdel(linkKey)
    const link = raw ? liveLink(raw) : undefined
    if (!raw || !link) return { kind: 'gone' }
    if (session) await redis.set(session.key, session.head + raw + session.tail, 'EX', session.ttlSeconds)
    return { kind: 'taken', link }
  }

  return {
    /** Creates a one-time token; returns it (for the connectUrl only) with the stored record. */
    async create(input: Omit<ConnectLink, 'id' | 'createdAt' | 'expiresAt'>, ttlSeconds: number) {
      const token = CONNECT_TOKEN_PREFIX + randomBytes(32).toString('base64url')
      const now = Date.now()
      const record: ConnectLink = {
        ...input,
        id: 'cs_' + randomBytes(12).toString('base64url'),
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + ttlSeconds * 1000).toISOString(),
      }
      await redis.set(redisKeys.connectLink(hashToken(token)), JSON.stringify(record), 'EX', ttlSeconds)
      return { token, record }
    },

    /**
     * Atomically takes the token's record (GETDEL): of two concurrent launches with one token, exactly
     * one gets it. Unknown, used and expired tokens all come back undefined, by design indistinguishable.
     */
    async consume(token: string): Promise<ConnectLink | undefined> {
      if (!token.startsWith(CONNECT_TOKEN_PREFIX) || token.length > 100) return undefined
      const raw = await redis.getdel(redisKeys.connectLink(hashToken(token)))
      if (!raw) return undefined
      return liveLink(raw)
    },

    /** Whether the link can still be taken: after a failed launch, what the grower may be told. */
    async isUnspent(token: string): Promise<boolean> {
      if (!token.startsWith(CONNECT_TOKEN_PREFIX) || token.length > 100) return false
      return (await redis.exists(redisKeys.connectLink(hashToken(token)))) === 1
    },

    /**
     * The launch's Redis work in one round trip (LAUNCH_SCRIPT): counts the client against `count`,
     * takes the link like `consume`, and writes `session` with the link's record in it. Over the
     * limit, nothing else happens; an unknown, used or expired link writes no session.
     */
    async launch(token: string, count: LaunchCount | undefined, session: LaunchWrite | undefined): Promise<LaunchTake> {
      // A malformed token is still counted: guessing must cost the guesser their limit.
      const linkKey = redisKeys.connectLink(hashToken(token.startsWith(CONNECT_TOKEN_PREFIX) && token.length <= 100 ? token : ''))
      if (redis.isCluster) return launchOnCluster(linkKey, count, session)
      const limit = count?.limit ?? 0
      const [kind, value] = await commands.rcLaunch(
        count?.key ?? linkKey,
        linkKey,
        session?.key ?? linkKey,
        limit,
        count?.windowMs ?? 0,
        new Date().toISOString(),
        session?.head ?? '',
        session?.tail ?? '',
        session?.ttlSeconds ?? 0,
      )
      if (kind === 'limited') return { kind, retryAfterMs: Number(value) }
      const link = kind === 'taken' && typeof value === 'string' ? liveLink(value) : undefined
      return link ? { kind: 'taken', link } : { kind: 'gone' }
    },
  }
}

/** The record of a taken link, unless it expired (Redis expiry is the primary guard; this covers clock-aligned edge cases). */
function liveLink(raw: string): ConnectLink | undefined {
  const record = JSON.parse(raw) as ConnectLink
  return Date.parse(record.expiresAt) > Date.now() ? record : undefined
}

export type ConnectLinkStore = ReturnType<typeof createConnectLinkStore>
