import type { RequestHandler } from 'express'

import type { PageSettings } from '../config/load-config.js'

/** The accent of the pages when BRAND_COLOR is unset: the muted green of page.css. */
export const NEUTRAL_ACCENT = '#3b6e2a'

/**
 * GET /assets/brand.css: BRAND_COLOR as a CSS custom property, so the pages get the host's accent from a
 * stylesheet of this origin and the CSP keeps forbidding inline style. The value passed the config's
 * `#rrggbb` check, so nothing but a colour can reach the stylesheet. The accent marks borders and focus
 * rings only, never text, so any colour keeps the text's contrast.
 */
export function brandStylesheet(settings: PageSettings): RequestHandler {
  const body = `/* The host's accent colour (BRAND_COLOR). */\n:root { --accent: ${settings.brandColor ?? NEUTRAL_ACCENT}; }\n`
  return (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600')
    res.type('text/css').send(body)
  }
}
