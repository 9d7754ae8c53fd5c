/** One request to the revocation endpoint (RFC 7009), kept for assertions and never logged. */
export interface RevocationRecord {
  token: string
  tokenTypeHint: string | undefined
}

/** What the sandbox saw, so a test can prove e.g. "no exchange happened for this code". */
export interface RavenStats {
  /** Requests to the token endpoint, any grant type, including refused and fault-answered ones. */
  readonly tokenRequests: number
  /** `grant_type=refresh_token` requests. */
  readonly refreshGrants: number
  readonly discoveryRequests: number
  /** Requests that reached the authorization endpoint (not the resumes after login and consent). */
  readonly authorizationRequests: number
  readonly revocations: readonly RevocationRecord[]
  /** Token requests (`grant_type=authorization_code`) that carried this code, whatever the answer. */
  tokenRequestsForCode(code: string): number
  /** True once a token response with status 200 was produced for this code (even if sent late). */
  codeExchanged(code: string): boolean
  /** The refresh token issued for this code, if any: for tests about ambiguous or lost responses. */
  refreshTokenForCode(code: string): string | undefined
  wasRevoked(token: string): boolean
  /**
   * Every token value the sandbox handed out (access, refresh and ID tokens of every 200 token answer)
   * and every authorization code presented at the token endpoint: what a leak scan looks for.
   */
  issuedValues(): string[]
  reset(): void
}

export interface StatsRecorder extends RavenStats {
  recordDiscovery(): void
  recordAuthorization(): void
  recordTokenRequest(form: URLSearchParams | Record<string, unknown> | undefined): void
  recordIssued(code: string, refreshToken: string | undefined): void
  recordTokenAnswer(body: Record<string, unknown>): void
  recordRevocation(form: URLSearchParams | Record<string, unknown> | undefined): void
}

export function createStats(): StatsRecorder {
  let tokenRequests = 0
  let refreshGrants = 0
  let discoveryRequests = 0
  let authorizationRequests = 0
  const perCode = new Map<string, number>()
  const issued = new Map<string, string | undefined>()
  const revocations: RevocationRecord[] = []
  const issuedValues = new Set<string>()

  return {
    get tokenRequests() {
      return tokenRequests
    },
    get refreshGrants() {
      return refreshGrants
    },
    get discoveryRequests() {
      return discoveryRequests
    },
    get authorizationRequests() {
      return authorizationRequests
    },
    get revocations() {
      return revocations
    },
    tokenRequestsForCode: (code) => perCode.get(code) ?? 0,
    codeExchanged: (code) => issued.has(code),
    refreshTokenForCode: (code) => issued.get(code),
    wasRevoked: (token) => revocations.some((r) => r.token === token),
    issuedValues: () => [...issuedValues, ...perCode.keys()],
    reset() {
      tokenRequests = refreshGrants = discoveryRequests = authorizationRequests = 0
      perCode.clear()
      issued.clear()
      issuedValues.clear()
      revocations.length = 0
    },
    recordDiscovery: () => void discoveryRequests++,
    recordAuthorization: () => void authorizationRequests++,
    recordTokenRequest(form) {
      tokenRequests++
      const grantType = field(form, 'grant_type')
      if (grantType === 'refresh_token') refreshGrants++
      const code = field(form, 'code')
      if (grantType === 'authorization_code' && code) perCode.set(code, (perCode.get(code) ?? 0) + 1)
    },
    recordIssued: (code, refreshToken) => void issued.set(code, refreshToken),
    recordTokenAnswer(body) {
      for (const name of ['access_token', 'refresh_token', 'id_token']) {
        const value = body[name]
        if (typeof value === 'string' && value !== '') issuedValues.add(value)
      }
    },
    recordRevocation(form) {
      const token = field(form, 'token')
      if (token) revocations.push({ token, tokenTypeHint: field(form, 'token_type_hint') })
    },
  }
}

/** Reads a form field from our own parse (URLSearchParams) or oidc-provider's (`ctx.oidc.body`). */
export function field(form: URLSearchParams | Record<string, unknown> | undefined, name: string): string | undefined {
  if (!form) return undefined
  const value = form instanceof URLSearchParams ? form.get(name) : form[name]
  return typeof value === 'string' ? value : undefined
}
