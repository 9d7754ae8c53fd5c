import 'express-serve-static-core'
import 'express-session'

import type { FlowRecord } from '../browser-session/flows.js'

declare module 'express-serve-static-core' {
  interface Request {
    /** Request id, echoed as X-Request-Id and carried by every log line of the request. */
    id: string
    /** Which API key authenticated a /v1 call (key1, key2 …), never the key itself. */
    apiKeyId?: string
  }
}

declare module 'express-session' {
  interface SessionData {
    /** Consent flows in progress in this browser, keyed by a hash of their `state`. */
    flows?: Record<string, FlowRecord>
    /** The Leaf user this browser connected, kept for an hour after the callback for /api calls. */
    connected?: { leafUserId: string; until: number }
  }
}
