import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { Router } from 'express'

/** The browser SDK, one dependency-free ES module kept beside src/ so `npm run build` needs no copy step. */
const SDK_FILE = fileURLToPath(new URL('../../sdk/raven-connect.js', import.meta.url))

export const SDK_ROUTE = '/sdk/raven-connect.js'

/**
 * GET /sdk/raven-connect.js. A host page on one of RETURN_TO_ORIGINS imports it cross-origin, which
 * for a module script is a CORS request: the exact Origin is echoed (no credentials are involved), and
 * Cross-Origin-Resource-Policy is relaxed from helmet's same-origin so pages with COEP can load it too.
 */
export function sdkRoutes(allowedOrigins: string[]): Router {
  const source = readFileSync(SDK_FILE, 'utf8')
  const allowed = new Set(allowedOrigins)
  const router = Router()
  router.get(SDK_ROUTE, (req, res) => {
    res.append('Vary', 'Origin')
    const origin = req.headers.origin
    if (typeof origin === 'string' && allowed.has(origin)) res.setHeader('Access-Control-Allow-Origin', origin)
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin')
    res.setHeader('Cache-Control', 'public, max-age=300')
    // res.send adds an ETag and answers a matching If-None-Match with 304.
    res.type('text/javascript; charset=utf-8').send(source)
  })
  return router
}
