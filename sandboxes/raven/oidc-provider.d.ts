// oidc-provider 9 ships no type definitions and @types/oidc-provider is not installed, so this declares
// the part of its API the Raven sandbox uses (checked against lib/provider.js, lib/models and
// lib/helpers/defaults.js of 9.13). Kept deliberately narrow: anything not listed here is not used.
declare module 'oidc-provider' {
  import type { EventEmitter } from 'node:events'
  import type { IncomingMessage, ServerResponse } from 'node:http'

  /** The part of Koa's context the sandbox's fault middleware touches. */
  export interface KoaContext {
    method: string
    path: string
    href: string
    query: Record<string, string | string[] | undefined>
    status: number
    body: unknown
    type: string
    req: IncomingMessage
    response: { get(field: string): string }
    set(field: string, value: string): void
    remove(field: string): void
    redirect(url: string): void
    /** Set by oidc-provider on the requests its router matched. */
    oidc?: {
      params?: Record<string, unknown>
      body?: Record<string, unknown>
    }
  }

  export type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>

  export interface InteractionDetails {
    uid: string
    prompt: {
      name: 'login' | 'consent' | string
      reasons: string[]
      details: {
        missingOIDCScope?: string[]
        missingOIDCClaims?: string[]
        missingResourceScopes?: Record<string, string[]>
      }
    }
    params: Record<string, unknown> & { client_id: string; scope?: string; redirect_uri?: string }
    session?: { accountId: string; uid: string }
    grantId?: string
  }

  export type InteractionResult =
    | { login: { accountId: string } }
    | { consent: { grantId?: string } }
    | { error: string; error_description?: string }

  export interface Grant {
    addOIDCScope(scope: string): void
    addOIDCClaims(claims: string[]): void
    addResourceScope(indicator: string, scope: string): void
    save(): Promise<string>
  }

  export interface ClientModel {
    clientId: string
    clientName?: string
    redirectUriAllowed(uri: string): boolean
  }

  export interface RefreshTokenModel {
    isValid: boolean
    grantId: string
    clientId: string
  }

  export interface AccountClaims {
    sub: string
    [claim: string]: unknown
  }

  export interface Account {
    accountId: string
    claims(use: string, scope: string): Promise<AccountClaims> | AccountClaims
  }

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>
    find(id: string): Promise<AdapterPayload | undefined>
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>
    findByUid(uid: string): Promise<AdapterPayload | undefined>
    consume(id: string): Promise<void>
    destroy(id: string): Promise<void>
    revokeByGrantId(grantId: string): Promise<void>
  }

  export interface AdapterPayload {
    grantId?: string
    uid?: string
    userCode?: string
    consumed?: number
    [key: string]: unknown
  }

  export interface ClientMetadata {
    client_id: string
    client_secret: string
    redirect_uris: string[]
    grant_types: string[]
    response_types: string[]
    token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post'
    client_name?: string
  }

  export interface Jwk {
    kty: string
    kid?: string
    use?: string
    alg?: string
    [member: string]: unknown
  }

  /** Configuration keys the sandbox sets; see lib/helpers/defaults.js for each one's meaning. */
  export interface Configuration {
    adapter?: (name: string) => Adapter
    clients: ClientMetadata[]
    clientAuthMethods?: string[]
    clientBasedCORS?: (ctx: KoaContext, origin: string, client: ClientModel) => boolean
    claims: Record<string, string[] | null>
    cookies: {
      keys: Array<string | Buffer>
      names?: { session?: string; interaction?: string; resume?: string }
    }
    features: {
      devInteractions: { enabled: boolean }
      revocation: {
        enabled: boolean
        allowedPolicy?: (ctx: KoaContext, client: ClientModel, token: { clientId: string }) => Promise<boolean>
      }
      userinfo?: { enabled: boolean }
      rpInitiatedLogout?: { enabled: boolean }
      introspection?: { enabled: boolean }
      pushedAuthorizationRequests?: { enabled: boolean }
      dPoP?: { enabled: boolean }
      resourceIndicators?: { enabled: boolean }
    }
    findAccount: (ctx: KoaContext, sub: string) => Promise<Account | undefined>
    interactions?: { url: (ctx: KoaContext, interaction: { uid: string }) => Promise<string> }
    issueRefreshToken?: (ctx: KoaContext, client: unknown, code: unknown) => Promise<boolean>
    jwks: { keys: Jwk[] }
    pkce: { required: (ctx: KoaContext, client: ClientModel) => boolean }
    renderError?: (ctx: KoaContext, out: Record<string, string>, error: Error) => Promise<void>
    responseTypes: string[]
    rotateRefreshToken: boolean | ((ctx: KoaContext) => boolean)
    routes: Record<string, string>
    scopes: string[]
    ttl: Record<string, number>
  }

  export class Provider extends EventEmitter {
    constructor(issuer: string, configuration: Configuration)
    readonly issuer: string
    proxy: boolean
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>
    use(middleware: KoaMiddleware): this
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>
    readonly Grant: {
      new (properties: { accountId: string; clientId: string }): Grant
      find(id: string): Promise<Grant | undefined>
    }
    readonly Client: { find(id: string): Promise<ClientModel | undefined> }
    readonly RefreshToken: { find(value: string): Promise<RefreshTokenModel | undefined> }
  }

  export const errors: {
    SessionNotFound: new (description?: string) => Error
    InvalidRequest: new (description?: string) => Error
  }
}
