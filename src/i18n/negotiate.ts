import Negotiator from 'negotiator'

import { LOCALES, isLocale, type Locale } from './locales.js'

/**
 * The language of a grower-facing page, in the contract's order: the connect session's `locale` (when
 * the page belongs to a live flow), else the supported language `Accept-Language` prefers most by
 * quality value, else DEFAULT_LOCALE.
 */
export function pickLocale(input: { flowLocale?: Locale | undefined; acceptLanguage?: string | undefined; defaultLocale: Locale }): Locale {
  if (input.flowLocale) return input.flowLocale
  if (!input.acceptLanguage) return input.defaultLocale
  // negotiator matches `pt-PT` to an offered `pt` but not to `pt-BR`, so `pt` is offered too and read
  // as pt-BR: a Portuguese reader is better served by Brazilian Portuguese than by English. The default
  // goes first so `*` (any language) and equal preferences resolve to it.
  const offered = [input.defaultLocale, ...LOCALES.filter((locale) => locale !== input.defaultLocale), 'pt']
  const [best] = new Negotiator({ headers: { 'accept-language': input.acceptLanguage.slice(0, 1000) } }).languages(offered)
  if (best === 'pt') return 'pt-BR'
  return isLocale(best) ? best : input.defaultLocale
}
