import { en, type Catalogue, type MessageKey } from './catalogues/en.js'
import { es } from './catalogues/es.js'
import { fr } from './catalogues/fr.js'
import { ptBR } from './catalogues/pt-BR.js'
import type { Locale } from './locales.js'

export type { Catalogue, MessageKey }

/** One catalogue per language; the type makes a language without one a build error. */
export const CATALOGUES: Record<Locale, Catalogue> = { en, 'pt-BR': ptBR, es, fr }

/** Looks up texts in one language, with `{app}` filled in: APP_NAME, or the language's "your app". */
export type Translate = (key: MessageKey) => string

export function translator(locale: Locale, appName: string | undefined): Translate {
  const catalogue = CATALOGUES[locale]
  const app = appName ?? catalogue['app.fallback']
  // A function replacement: an APP_NAME containing `$&` or `$1` is inserted as written.
  return (key) => catalogue[key].replaceAll('{app}', () => app)
}
