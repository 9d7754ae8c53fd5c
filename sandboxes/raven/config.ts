import { generateKeyPairSync, randomBytes } from 'node:crypto'

import { errors } from 'oidc-provider'

import { createMemoryAdapter } from './memory-adapter.js'
import { errorPage } from './views.js'

import type { Account, ClientMetadata, Configuration, Jwk, KoaContext } from 'oidc-provider'

/** The scopes Raven (AgSync) documents; `offline_access` is what earns a refresh token. */
export const RAVEN_SCOPES = ['openid', 'profile', 'email', 'agsync', 'roles', 'offline_access'] as const

/**
 * Endpoint paths on the sandbox's origin, shaped like Raven's production ones
 * (`https://auth.agsync.com/core/connect/authorize`, `.../core/connect/token`), so a client configured
 * with explicit endpoints is exercised with realistic paths. They are the same in both issuer shapes;
 * discovery is at `{issuer}/.well-known/openid-configuration`.
 */
export const RAVEN_ROUTES = {
  authorization: '/core/connect/authorize',
  token: '/core/connect/token',
  revocation: '/core/connect/revocation',
  userinfo: '/core/connect/userinfo',
  jwks: '/core/.well-known/jwks',
} as const

export const DISCOVERY_PATH = '/.well-known/openid-configuration'

/** Where Raven's identity server lives on its origin: its issuer is most likely `https://auth.agsync.com/core`. */
export const RAVEN_ISSUER_PATH = '/core'

export type RavenRoutes = { [name in keyof typeof RAVEN_ROUTES]: string }

/**
 * The provider's own routes when it is mounted under `issuerPath` (the mount strips that prefix), so the
 * endpoints keep the same absolute paths whichever shape the issuer has.
 */
export function providerRoutes(issuerPath: string): RavenRoutes {
  const strip = (path: string) => (issuerPath && path.startsWith(`${issuerPath}/`) ? path.slice(issuerPath.length) : path)
  return Object.fromEntries(Object.entries(RAVEN_ROUTES).map(([name, path]) => [name, strip(path)])) as RavenRoutes
}

export interface SandboxClient {
  clientId: string
  clientSecret: string
  redirectUris: string[]
  tokenAuthMethod?: 'client_secret_basic' | 'client_secret_post'
}

export interface SandboxGrower {
  username: string
  password: string
}

export const DEFAULT_GROWER: SandboxGrower = { username: 'grower@example.com', password: 'raven-sandbox' }

/** The grower's subject identifier: stable, so repeated flows give the same `sub`. */
export const GROWER_ACCOUNT_ID = 'raven-grower-0001'

const DAY = 24 * 60 * 60

export function buildProviderConfig(clients: SandboxClient[], grower: SandboxGrower, routes: RavenRoutes = RAVEN_ROUTES): Configuration {
  return {
    adapter: createMemoryAdapter(),
    clients: clients.map(toClientMetadata),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // Never a cross-origin browser caller: the service talks to the token endpoint server-side.
    clientBasedCORS: () => false,
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
      roles: ['role'],
    },
    cookies: {
      keys: [randomBytes(32)],
      // Cookies ignore ports, so on localhost the sandbox and raven-connect share one cookie jar;
      // prefixed names keep oidc-provider's `_session` from colliding with anything the service sets.
      names: { session: 'raven_session', interaction: 'raven_interaction', resume: 'raven_resume' },
    },
    features: {
      // Our own login and consent pages replace the dev ones (see interactions.ts).
      devInteractions: { enabled: false },
      // RFC 7009: Raven does not document one, the sandbox has one so revocation can be tested.
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only its own tokens; same rule as oidc-provider's default.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token')
          return true
        },
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      // Raven documents none of these; off, so a client that relied on them would fail here first.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      resourceIndicators: { enabled: false },
    },
    findAccount: async (_ctx: KoaContext, sub: string) => (sub === GROWER_ACCOUNT_ID ? growerAccount(grower) : undefined),
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    jwks: { keys: [signingKey()] },
    // Every client must use PKCE; oidc-provider 9 accepts only S256 (lib/helpers/pkce.js), so `plain`
    // is refused as Raven's hardened clients would expect.
    pkce: { required: () => true },
    renderError: async (ctx, out) => {
      ctx.type = 'html'
      ctx.body = errorPage(out.error ?? 'server_error', out.error_description ?? '')
    },
    responseTypes: ['code'],
    // Raven documents refresh tokens as "valid for 15 days unused, 1 year at most": a token that is
    // reused, not rotated. Keeping it unrotated also lets a test refresh the token handed to Leaf to
    // prove it is live without invalidating the copy Leaf holds.
    rotateRefreshToken: false,
    routes: { ...routes },
    scopes: [...RAVEN_SCOPES],
    // The default issueRefreshToken (lib/helpers/defaults.js) already issues one only when the client
    // has the refresh_token grant and offline_access was granted, which is Raven's rule; kept as is.
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 30 * 60,
      Session: DAY,
      Grant: 365 * DAY,
      // Raven: 15 days unused. oidc-provider has no idle expiry, so this is a fixed 15-day lifetime.
      RefreshToken: 15 * DAY,
    },
  }
}

function toClientMetadata(client: SandboxClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: client.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: client.tokenAuthMethod ?? 'client_secret_basic',
  }
}

function growerAccount(grower: SandboxGrower): Account {
  return {
    accountId: GROWER_ACCOUNT_ID,
    claims: () => ({
      sub: GROWER_ACCOUNT_ID,
      email: grower.username,
      email_verified: true,
      name: 'Sandbox Grower',
      given_name: 'Sandbox',
      family_name: 'Grower',
      role: 'grower',
    }),
  }
}

// A fresh RS256 key per sandbox: nothing outside the process ever needs to verify its ID tokens
// after it stops, and it avoids oidc-provider's shared development keys (and their warning).
function signingKey(): Jwk {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { ...privateKey.export({ format: 'jwk' }), kty: 'RSA', kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }
}
