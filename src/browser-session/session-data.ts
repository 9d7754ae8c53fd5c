import 'express-session'

import type { Locale } from '../i18n/locales.js'

/** A consent flow lives 15 minutes (contract). */
export const FLOW_TTL_MS = 15 * 60 * 1000
/** The browser keeps the Leaf user it connected for one hour after the callback (for /api). */
export const CONNECTED_TTL_MS = 60 * 60 * 1000

/** One consent flow in progress in this browser. Lives in the Redis session, keyed by a hash of its state. */
export interface FlowRecord {
  createdAt: number
  codeVerifier: string
  nonce?: string
  returnTo?: string
  mode: 'redirect' | 'popup'
  /** The language of this flow's pages (the connect session's `locale`), when the host named one. */
  locale?: Locale
  leafUserId: string
  /** The connect session (POST /v1/connect-sessions) this flow came from: names it in logs and webhooks. */
  connectSessionId: string
}

/**
 * A flow as the session stores it: the launch's own fields plus the connect link's record exactly as
 * the link store held it, so the launch's one Redis script can write the flow in the same step that
 * takes the link (see launch-session.ts). Sessions written before this shape carry the link's fields
 * flat, as FlowRecord does; flowRecordOf reads both.
 */
export type StoredFlow = Pick<FlowRecord, 'createdAt' | 'codeVerifier' | 'nonce'> & { link: StoredLink } | FlowRecord

/** The connect link's record as connect-links/token-store.ts writes it (only what a flow needs). */
export interface StoredLink {
  id: string
  leafUserId: string
  returnTo?: string
  mode: 'redirect' | 'popup'
  /** The language of the flow's pages (the connect session's `locale`), when the host named one. */
  locale?: Locale
}

/** The flow the callback works with, from either stored shape. */
export function flowRecordOf(stored: StoredFlow): FlowRecord {
  if (!('link' in stored)) return stored
  const { link } = stored
  return {
    createdAt: stored.createdAt,
    codeVerifier: stored.codeVerifier,
    ...(stored.nonce ? { nonce: stored.nonce } : {}),
    ...(link.returnTo ? { returnTo: link.returnTo } : {}),
    mode: link.mode,
    ...(link.locale ? { locale: link.locale } : {}),
    leafUserId: link.leafUserId,
    connectSessionId: link.id,
  }
}

/** The Leaf user this browser connected, and until when it may use /api for that user. */
export interface ConnectedUser {
  leafUserId: string
  until: number
}

// The browser session's data. Only this folder reads or writes these fields.
declare module 'express-session' {
  interface SessionData {
    /** Consent flows in progress in this browser, keyed by a hash of their `state`. */
    flows?: Record<string, StoredFlow>
    /** The Leaf user this browser connected, kept for an hour after the callback for /api calls. */
    connected?: ConnectedUser
  }
}
