import type { RequestHandler } from 'express'

/**
 * CORS with credentials for the exact origins of RETURN_TO_ORIGINS: the request's Origin is echoed
 * only when it is on the list (never `*`, never `null`). Preflights are answered here.
 */
export function credentialedCors(allowedOrigins: string[], methods: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins)
  return (req, res, next) => {
    res.append('Vary', 'Origin')
    const origin = req.headers.origin
    const permitted = typeof origin === 'string' && allowed.has(origin)
    if (permitted) {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
    }
    if (req.method === 'OPTIONS') {
      if (permitted) {
        res.setHeader('Access-Control-Allow-Methods', methods.join(', '))
        res.setHeader('Access-Control-Allow-Headers', 'X-Requested-With, Content-Type')
        res.setHeader('Access-Control-Max-Age', '600')
      }
      res.status(204).end()
      return
    }
    next()
  }
}
