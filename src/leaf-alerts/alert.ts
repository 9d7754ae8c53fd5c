import { createHash } from 'node:crypto'

import { z } from 'zod'

import { leafTimeMs } from '../registry/registry.js'

/** The two alerts that say a credential went bad (contract: Leaf Alerts), and the health each sets. */
export const CREDENTIAL_ALERTS = {
  credentialsUnauthenticated: 'unauthenticated',
  credentialsLimitedPermission: 'limited_permission',
} as const
export type CredentialAlertType = keyof typeof CREDENTIAL_ALERTS

export const CONFIRMATION_MESSAGE = 'confirmation of webhook upon registration'

/** A credential alert, as far as the service needs it; `credential` (the client id) is not kept. */
export interface CredentialAlert {
  type: CredentialAlertType
  credentialId: string
  provider: string
  status: string
  /** Epoch ms of Leaf's `timestamp`. */
  at: number
  /** Stable across Leaf's retries and failed-calls replays of this one alert. */
  key: string
}

/** What a body Leaf sent is: a confirmation, a credential alert, or something the service ignores. */
export type ClassifiedAlert =
  | { kind: 'confirmation' }
  | { kind: 'credential'; alert: CredentialAlert }
  | { kind: 'other_provider'; type: CredentialAlertType }
  | { kind: 'other_type' }
  | { kind: 'invalid'; type: string }

const idText = z.union([z.string().min(1).max(200), z.number()]).transform(String)
const credentialAlertSchema = z.object({
  type: z.enum(['credentialsUnauthenticated', 'credentialsLimitedPermission']),
  provider: z.string().max(200),
  credentialId: idText,
  status: z.string().max(200).nullish().transform((status) => status ?? ''),
  timestamp: z.union([z.string().max(64), z.number()]),
})

/**
 * Leaf does not document the provider string it uses for Raven: any value naming Raven as a word,
 * whatever the case (`Raven`, `RAVEN`), is Raven; Raven Slingshot (API-key machine data) is another
 * provider whose credentials this service never creates.
 */
export function isRavenProvider(provider: string): boolean {
  return /(^|[^a-z])raven([^a-z]|$)/i.test(provider) && !/slingshot/i.test(provider)
}

export function classifyAlert(body: unknown): ClassifiedAlert {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { kind: 'invalid', type: 'other' }
  const record = body as Record<string, unknown>
  if (record.type === undefined && record.message === CONFIRMATION_MESSAGE) return { kind: 'confirmation' }
  if (record.type !== 'credentialsUnauthenticated' && record.type !== 'credentialsLimitedPermission') return { kind: 'other_type' }
  const parsed = credentialAlertSchema.safeParse(record)
  if (!parsed.success) return { kind: 'invalid', type: record.type }
  const { type, provider, credentialId, status, timestamp } = parsed.data
  if (!isRavenProvider(provider)) return { kind: 'other_provider', type }
  const at = leafTimeMs(timestamp)
  if (at === null) return { kind: 'invalid', type }
  const key = createHash('sha256').update(`${credentialId}\n${type}\n${String(timestamp)}\n${status}`).digest('hex').slice(0, 32)
  return { kind: 'credential', alert: { type, credentialId, provider, status, at, key } }
}

/** The metric's `type` label: a closed set, whatever Leaf sends. */
export function typeLabel(classified: ClassifiedAlert): string {
  switch (classified.kind) {
    case 'confirmation':
      return 'confirmation'
    case 'credential':
      return classified.alert.type
    case 'other_provider':
      return classified.type
    case 'invalid':
      return classified.type === 'credentialsUnauthenticated' || classified.type === 'credentialsLimitedPermission' ? classified.type : 'other'
    default:
      return 'other'
  }
}
