import type { Session, SessionData } from 'express-session'

import { saveSession } from './flows.js'
import { CONNECTED_TTL_MS } from './session-data.js'

/** After a successful callback: this browser may use /api for this Leaf user for the next hour. */
export async function rememberConnectedUser(session: Session & Partial<SessionData>, leafUserId: string): Promise<void> {
  session.connected = { leafUserId, until: Date.now() + CONNECTED_TTL_MS }
  session.cookie.maxAge = CONNECTED_TTL_MS
  await saveSession(session)
}

/** The Leaf user this browser connected within the last hour, if any. */
export function connectedLeafUser(session: Partial<SessionData> | undefined): string | undefined {
  const connected = session?.connected
  return connected && connected.until > Date.now() ? connected.leafUserId : undefined
}
