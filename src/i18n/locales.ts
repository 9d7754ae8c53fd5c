/** The languages of the grower-facing pages (contract: `locale` on POST /v1/connect-sessions, DEFAULT_LOCALE). */
export const LOCALES = ['en', 'pt-BR', 'es', 'fr'] as const

export type Locale = (typeof LOCALES)[number]

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}
