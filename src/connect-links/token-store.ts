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

export function createConnectLinkStore(redis: Redis) {
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
      const record = JSON.parse(raw) as ConnectLink
      // Redis expiry is the primary guard; this covers clock-aligned edge cases.
      return Date.parse(record.expiresAt) > Date.now() ? record : undefined
    },
  }
}

export type ConnectLinkStore = ReturnType<typeof createConnectLinkStore>
