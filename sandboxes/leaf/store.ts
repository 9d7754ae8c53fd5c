import { randomUUID } from 'node:crypto'
import { buildRavenEvents, type SandboxEvent } from './events.js'

export interface SandboxUser {
  id: string
  externalId: string | null
  name: string | null
  email: string | null
  createdTime: string
}

/** A stored Raven credential, secrets included: tests read `refreshToken` to use it at Raven. */
export interface SandboxCredential {
  id: string
  leafUserId: string
  status: string
  createdTime: string
  createdAtMs: number
  clientId: string
  clientSecret: string
  refreshToken: string
  accessToken: string
  scopes: string[]
}

/** Method, path and status of each request; never a body, header or query value with a secret. */
export interface RequestLogEntry {
  method: string
  path: string
  /** The query string as sent (Leaf's user-management API has no secret in a query). */
  query: string
  /** null until answered; stays null for a request that never got an answer. */
  status: number | null
}

/** Choices where Leaf's real behaviour is undocumented; tests may change them at run time. */
export interface LeafSandboxBehaviour {
  /** Status for POST raven-credentials when the user already holds one. */
  duplicateCredentialStatus: number
  /** GET …/raven-credentials/events without a credential: 404 (`not_found`) or `[]` (`empty`). */
  eventsWithoutCredential: 'not_found' | 'empty'
  /** Status in the create answer; GETs show `activeStatus` once `processingMs` has passed. */
  createdStatus: string
  activeStatus: string
  processingMs: number
  /** What `tokenMetadata.scopes` reports. */
  scopes: string[]
  /** Page size when `size` is absent, and the largest accepted. */
  defaultPageSize: number
  maxPageSize: number
  /** Whether `GET /users` sends `X-Total-Count`. */
  totalCountHeader: boolean
  /** `POST /users` takes this long before the user exists and the answer comes (a busy Leaf). */
  createUserDelayMs: number
}

export const DEFAULT_BEHAVIOUR: LeafSandboxBehaviour = {
  duplicateCredentialStatus: 409,
  eventsWithoutCredential: 'not_found',
  createdStatus: 'PROCESSING',
  activeStatus: 'ACTIVE',
  processingMs: 0,
  scopes: ['openid', 'profile', 'email', 'agsync', 'offline_access'],
  defaultPageSize: 20,
  maxPageSize: 2000,
  totalCountHeader: true,
  createUserDelayMs: 0,
}

/** Leaf's time format, `yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'` (microseconds). */
export function leafTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** The sandbox's in-memory state, exposed for assertions. */
export class LeafSandboxState {
  readonly users = new Map<string, SandboxUser>()
  /** By Leaf user id: Leaf holds at most one Raven credential per user. */
  readonly credentials = new Map<string, SandboxCredential>()
  readonly events = new Map<string, SandboxEvent[]>()
  /** Secret strings written into each user's events, so tests can assert none survives redaction. */
  readonly eventSecrets = new Map<string, string[]>()
  readonly requests: RequestLogEntry[] = []
  behaviour: LeafSandboxBehaviour = { ...DEFAULT_BEHAVIOUR, scopes: [...DEFAULT_BEHAVIOUR.scopes] }
  /** Successful `POST /api/authenticate` calls. */
  authentications = 0
  /** Refused `POST /api/authenticate` calls. */
  failedAuthentications = 0

  addUser(input: { externalId?: string | null; name?: string | null; email?: string | null; id?: string } = {}) {
    const user: SandboxUser = {
      id: input.id ?? randomUUID(),
      externalId: input.externalId ?? null,
      name: input.name ?? null,
      email: input.email ?? null,
      createdTime: leafTime(),
    }
    this.users.set(user.id, user)
    return user
  }

  credentialFor(leafUserId: string): SandboxCredential | undefined {
    const credential = this.credentials.get(leafUserId)
    if (credential !== undefined && credential.status === this.behaviour.createdStatus) {
      // Leaf checks a new credential in the background, then reports its outcome in `status`.
      const processed = Date.now() - credential.createdAtMs >= this.behaviour.processingMs
      if (processed) credential.status = this.behaviour.activeStatus
    }
    return credential
  }

  storeCredential(leafUserId: string, input: { clientId: string; clientSecret: string; refreshToken: string }) {
    const now = Date.now()
    const credential: SandboxCredential = {
      id: randomUUID(),
      leafUserId,
      status: this.behaviour.createdStatus,
      createdTime: leafTime(now),
      createdAtMs: now,
      ...input,
      accessToken: `leaf-sandbox-at-${randomUUID()}`,
      scopes: [...this.behaviour.scopes],
    }
    this.credentials.set(leafUserId, credential)
    const { events, secrets } = buildRavenEvents(credential, now)
    this.events.set(leafUserId, events)
    this.eventSecrets.set(leafUserId, secrets)
    return credential
  }

  /** Leaf deletes a credential's events with it (reference/: "no longer available"). */
  deleteCredential(leafUserId: string): boolean {
    this.events.delete(leafUserId)
    this.eventSecrets.delete(leafUserId)
    return this.credentials.delete(leafUserId)
  }

  setCredentialStatus(leafUserId: string, status: string): void {
    const credential = this.credentials.get(leafUserId)
    if (credential === undefined) throw new Error(`no credential for ${leafUserId}`)
    credential.status = status
  }

  /** Requests matching a method and a path fragment, e.g. `requestsTo('POST', '/raven-credentials')`. */
  requestsTo(method: string, pathIncludes = ''): RequestLogEntry[] {
    return this.requests.filter((entry) => entry.method === method && entry.path.includes(pathIncludes))
  }

  reset(): void {
    this.users.clear()
    this.credentials.clear()
    this.events.clear()
    this.eventSecrets.clear()
    this.requests.length = 0
    this.behaviour = { ...DEFAULT_BEHAVIOUR, scopes: [...DEFAULT_BEHAVIOUR.scopes] }
    this.authentications = 0
    this.failedAuthentications = 0
  }
}
