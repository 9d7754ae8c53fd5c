import type { RequestHandler } from 'express'
import helmet from 'helmet'

/**
 * Helmet with a strict CSP: no inline script anywhere, no framing, no referrer. `imageOrigins` are the
 * only other origins images may come from (BRAND_LOGO_URL's).
 */
export function securityHeaders(imageOrigins: string[] = []): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', ...imageOrigins],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true },
  })
}

/** Flow pages: never cached, never leak their query through Referer, keep window.opener for popups. */
export function flowPageHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Pragma', 'no-cache')
    res.setHeader('Referrer-Policy', 'no-referrer')
    // helmet's default COOP (same-origin) would cut window.opener, which popup mode needs.
    res.setHeader('Cross-Origin-Opener-Policy', 'unsafe-none')
    next()
  }
}
