import 'express-serve-static-core'

declare module 'express-serve-static-core' {
  interface Request {
    /** Request id, echoed as X-Request-Id and carried by every log line of the request. */
    id: string
    /** Which API key authenticated a /v1 call (key1, key2 …), never the key itself. */
    apiKeyId?: string
  }
}
