import type { LeafAuth } from '../config/load-config.js'

/** Renew this long before `exp` at most, so a token does not expire between check and use. */
const RENEW_BEFORE_EXP_MS = 60_000

/**
 * Holds Leaf's bearer token. With a login it authenticates lazily, caches the token until shortly
 * before its JWT `exp`, and lets concurrent callers share one authentication in flight (the promise
 * is dropped when it settles, so a failure is not cached). A static token is returned as is.
 */
export class LeafTokenSource {
  private cached: { token: string; renewAt: number } | undefined
  private inFlight: Promise<string> | undefined

  constructor(
    private readonly auth: LeafAuth,
    private readonly authenticate: (login: { username: string; password: string }) => Promise<string>,
    private readonly now: () => number = Date.now,
  ) {}

  /** False for a static token: a 401 is then final, there is nothing to renew. */
  get renewable(): boolean {
    return !('token' in this.auth)
  }

  token(): Promise<string> {
    if ('token' in this.auth) return Promise.resolve(this.auth.token)
    if (this.cached !== undefined && this.now() < this.cached.renewAt) return Promise.resolve(this.cached.token)
    const login = this.auth
    this.inFlight ??= this.authenticate(login)
      .then((token) => {
        this.cached = { token, renewAt: renewAt(token, this.now()) }
        return token
      })
      .finally(() => {
        this.inFlight = undefined
      })
    return this.inFlight
  }

  /**
   * Forgets `token` after Leaf refused it. Only that token: a caller whose request raced a renewal
   * must not throw away the fresh token another caller just obtained.
   */
  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined
  }
}

/**
 * When to authenticate again: shortly before `exp` (by a minute, or by half the lifetime for short
 * tokens). The payload is decoded, not verified: the token is Leaf's to check, this is only a cache
 * hint. A token without a readable `exp` is kept until Leaf answers 401.
 */
export function renewAt(token: string, now: number): number {
  const claims = decodeJwtPayload(token)
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : undefined
  if (exp === undefined) return Number.POSITIVE_INFINITY
  const iat = typeof claims?.iat === 'number' ? claims.iat * 1000 : now
  const margin = Math.min(RENEW_BEFORE_EXP_MS, Math.max(0, (exp - iat) / 2))
  return exp - margin
}

export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
