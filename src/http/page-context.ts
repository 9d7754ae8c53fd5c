import type { Request } from 'express'

import type { PageSettings } from '../config/load-config.js'
import type { Locale } from '../i18n/locales.js'
import { pickLocale } from '../i18n/negotiate.js'

/** What a grower-facing page is rendered with: its language, and the host's name, logo and colour. */
export interface PageContext {
  locale: Locale
  settings: PageSettings
}

/** No brand, English: for the few pages written without the configuration at hand. */
export const NEUTRAL_PAGE_SETTINGS: PageSettings = { appName: undefined, logoUrl: undefined, brandColor: undefined, defaultLocale: 'en' }
export const NEUTRAL_PAGE_CONTEXT: PageContext = { locale: 'en', settings: NEUTRAL_PAGE_SETTINGS }

/**
 * The context of a page for a request Node's parser refused (server-hardening.ts): no session, no
 * Express request, only the bytes read so far, where the browser's Accept-Language may be. Without an
 * image source in that answer's CSP, the logo is left out.
 */
export function rawRequestPageContext(rawPacket: Buffer | undefined, settings: PageSettings = NEUTRAL_PAGE_SETTINGS): PageContext {
  const head = rawPacket?.toString('latin1', 0, 16 * 1024) ?? ''
  const acceptLanguage = /\r\naccept-language:[ \t]*([^\r\n]{0,500})/i.exec(head)?.[1]
  return { locale: pickLocale({ acceptLanguage, defaultLocale: settings.defaultLocale }), settings: { ...settings, logoUrl: undefined } }
}

/**
 * The context of a page for this request: the flow's locale when the page belongs to a live flow, else
 * the browser's Accept-Language, else DEFAULT_LOCALE (contract order, i18n/negotiate.ts).
 */
export function pageContextOf(req: Request, settings: PageSettings, flowLocale?: Locale): PageContext {
  const acceptLanguage = req.headers['accept-language']
  return { locale: pickLocale({ flowLocale, acceptLanguage, defaultLocale: settings.defaultLocale }), settings }
}
