import { describe, expect, it } from '@jest/globals'

import type { PageSettings } from '../src/config/load-config.js'
import type { ConnectOutcome, ConnectReason } from '../src/consent/outcome.js'
import { renderLaunchErrorPage, renderPopupPage, renderResultPage } from '../src/consent/result-pages.js'
import { renderErrorPage, renderUnavailablePage } from '../src/http/html-page.js'
import { NEUTRAL_PAGE_SETTINGS, type PageContext } from '../src/http/page-context.js'
import { en } from '../src/i18n/catalogues/en.js'
import { LOCALES, type Locale } from '../src/i18n/locales.js'
import { CATALOGUES } from '../src/i18n/messages.js'
import { pickLocale } from '../src/i18n/negotiate.js'
import { expectNoInlineCode, flowToCallback, htmlLang, mainAttribute, pageText, parseRaw, rawRequest, useSystem } from './helpers/kit/index.js'

// The grower's pages in four languages: the catalogues are complete, every page is written in the
// language the contract's order picks (the flow's locale, else Accept-Language, else DEFAULT_LOCALE),
// and the machine-readable codes never change with the language.

const REASONS: ConnectReason[] = [
  'access_denied',
  'raven_error',
  'expired',
  'invalid_request',
  'token_exchange_failed',
  'no_refresh_token',
  'leaf_rejected',
  'server_error',
]
const OUTCOMES: ConnectOutcome[] = [{ raven: 'connected' }, { raven: 'pending' }, ...REASONS.map((reason) => ({ raven: 'error' as const, reason }))]

/** Every page the service can show, by name, rendered with `context`. */
function everyPage(context: PageContext): Array<[string, string]> {
  return [
    ...OUTCOMES.map((outcome): [string, string] => [`result ${JSON.stringify(outcome)}`, renderResultPage(outcome, context)]),
    ...OUTCOMES.map((outcome): [string, string] => [`popup ${JSON.stringify(outcome)}`, renderPopupPage(outcome, 'https://app.example.test', context)]),
    ['launch invalid_link', renderLaunchErrorPage('invalid_link', context)],
    ['launch missing_link', renderLaunchErrorPage('missing_link', context)],
    ['unavailable', renderUnavailablePage(context)],
    ...[400, 404, 431, 500].map((status): [string, string] => [`error ${status}`, renderErrorPage(status, 'invalid_request', context)]),
  ]
}

const ACME: PageSettings = { ...NEUTRAL_PAGE_SETTINGS, appName: 'Acme Farms' }

describe('the message catalogues', () => {
  it.each(LOCALES)('%s has exactly the English keys, each a non-empty text with no placeholder but {app}', (locale) => {
    const catalogue = CATALOGUES[locale]
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort())
    for (const [key, text] of Object.entries(catalogue)) {
      expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false })
      expect({ key, placeholders: text.replace(/\{app\}/g, '').match(/[{}]/g) }).toEqual({ key, placeholders: null })
    }
  })

  it.each(LOCALES.filter((locale) => locale !== 'en'))('%s is translated, not English copied over', (locale) => {
    const same = Object.keys(en).filter((key) => CATALOGUES[locale][key as keyof typeof en] === en[key as keyof typeof en])
    expect(same).toEqual([])
  })
})

describe('every page in every language', () => {
  const keys = Object.keys(en)
  it.each(LOCALES.flatMap((locale) => [ACME, NEUTRAL_PAGE_SETTINGS].map((settings) => [locale, settings.appName ?? 'no APP_NAME', settings] as const)))(
    '%s, %s: <html lang>, text instead of keys, the app named, the same codes as in English, nothing inline',
    (locale, _name, settings) => {
      const pages = everyPage({ locale, settings })
      const english = new Map(everyPage({ locale: 'en', settings }))
      for (const [name, html] of pages) {
        const text = pageText(html)
        expect({ name, lang: htmlLang(html) }).toEqual({ name, lang: locale })
        expect({ name, keys: keys.filter((key) => text.includes(key)), braces: /[{}]/.test(text) }).toEqual({ name, keys: [], braces: false })
        expect({ name, raven: mainAttribute(html, 'data-raven'), reason: mainAttribute(html, 'data-reason') }).toEqual({
          name,
          raven: mainAttribute(english.get(name) ?? '', 'data-raven'),
          reason: mainAttribute(english.get(name) ?? '', 'data-reason'),
        })
        if (locale !== 'en') expect({ name, sameAsEnglish: text === pageText(english.get(name) ?? '') }).toEqual({ name, sameAsEnglish: false })
        expectNoInlineCode(html)
      }
      // The connected page names the host, or says "your app" in the page's language.
      const connected = pageText(renderResultPage({ raven: 'connected' }, { locale, settings }))
      expect(connected).toContain(settings.appName ?? CATALOGUES[locale]['app.fallback'])
    },
  )

  it('says "Raven is connected to Acme Farms" in English, and "your app" without APP_NAME', () => {
    const heading = (settings: PageSettings) => /<h1>(.*?)<\/h1>/.exec(renderResultPage({ raven: 'connected' }, { locale: 'en', settings }))?.[1]
    expect(heading(ACME)).toBe('Raven is connected to Acme Farms')
    expect(heading(NEUTRAL_PAGE_SETTINGS)).toBe('Raven is connected to your app')
  })

  it('escapes APP_NAME and inserts it as written', () => {
    const html = renderResultPage({ raven: 'connected' }, { locale: 'en', settings: { ...ACME, appName: '<b>Tom & $& Co</b>' } })
    expect(html).not.toContain('<b>')
    expect(pageText(html)).toContain('Raven is connected to <b>Tom & $& Co</b>')
  })
})

describe('which language (pickLocale)', () => {
  const pick = (acceptLanguage: string | undefined, defaultLocale: Locale = 'en', flowLocale?: Locale) => pickLocale({ acceptLanguage, defaultLocale, flowLocale })

  it.each([
    ['es;q=0.8, fr;q=0.9', 'fr'],
    ['de-DE, de;q=0.9, es;q=0.5, en;q=0.4', 'es'],
    ['pt', 'pt-BR'],
    ['pt-PT, en;q=0.5', 'pt-BR'],
    ['pt-br', 'pt-BR'],
    ['fr-CA', 'fr'],
    ['es-MX,es;q=0.9', 'es'],
    ['en-GB, fr;q=0.1', 'en'],
    ['fr;q=0, es;q=0.2', 'es'],
  ])('Accept-Language %p → %s', (header, expected) => {
    expect(pick(header)).toBe(expected)
  })

  it.each([[undefined], [''], ['de, it;q=0.5'], ['*'], ['fr;q=0'], ['garbage;;q=x,,']])('Accept-Language %p → DEFAULT_LOCALE', (header) => {
    expect(pick(header, 'es')).toBe('es')
    expect(pick(header, 'pt-BR')).toBe('pt-BR')
  })

  it("the flow's locale wins over the browser's languages", () => {
    expect(pick('es', 'en', 'fr')).toBe('fr')
  })
})

describe('the language of the pages, over HTTP', () => {
  const system = useSystem({ env: { DEFAULT_LOCALE: 'fr' } })

  it("a flow created with locale pt-BR ends on a Portuguese result page, whatever the browser's languages", async () => {
    const flow = await flowToCallback(system, { locale: 'pt-BR', decision: 'decline' })
    const page = await flow.browser.get(flow.callbackUrl.href, { 'accept-language': 'es, en;q=0.5' })
    expect(page.status).toBe(403)
    expect(htmlLang(page.body)).toBe('pt-BR')
    expect(pageText(page.body)).toContain(CATALOGUES['pt-BR']['reason.access_denied.heading'])
    expect({ raven: mainAttribute(page.body, 'data-raven'), reason: mainAttribute(page.body, 'data-reason') }).toEqual({ raven: 'error', reason: 'access_denied' })
  })

  it("the popup end page of a flow speaks the flow's language too", async () => {
    const flow = await flowToCallback(system, { locale: 'es', mode: 'popup', returnTo: `${system.returnOrigin}/` })
    const page = await flow.browser.get(flow.callbackUrl.href, { 'accept-language': 'fr' })
    expect(page.status).toBe(200)
    expect(htmlLang(page.body)).toBe('es')
    expect(pageText(page.body)).toContain('Raven está conectado con tu aplicación')
    expect(mainAttribute(page.body, 'data-raven')).toBe('connected')
  })

  it("a flow without locale follows the browser's Accept-Language", async () => {
    const flow = await flowToCallback(system, {})
    const page = await flow.browser.get(flow.callbackUrl.href, { 'accept-language': 'de;q=1, es;q=0.7, en;q=0.3' })
    expect(page.status).toBe(200)
    expect(htmlLang(page.body)).toBe('es')
    expect(mainAttribute(page.body, 'data-raven')).toBe('connected')
  })

  it('pages outside a flow (bad link, used link, callback without a flow, unknown path) follow Accept-Language, pt → pt-BR', async () => {
    const browser = system.browser()
    const answers = await Promise.all([
      browser.get(`${system.url}/connect/raven`, { 'accept-language': 'pt' }),
      browser.get(`${system.url}/connect/raven?session=rc_cs_unknown`, { 'accept-language': 'pt' }),
      browser.get(`${system.url}/connect/raven/callback?state=nothing`, { 'accept-language': 'pt' }),
      browser.get(`${system.url}/connect/elsewhere`, { 'accept-language': 'pt' }),
    ])
    expect(answers.map((answer) => [answer.status, htmlLang(answer.body)])).toEqual([
      [400, 'pt-BR'],
      [410, 'pt-BR'],
      [410, 'pt-BR'],
      [404, 'pt-BR'],
    ])
    expect(pageText(answers[1]?.body ?? '')).toContain('Este link expirou ou já foi usado')
    expect(answers.map((answer) => mainAttribute(answer.body, 'data-reason'))).toEqual(['invalid_request', 'expired', 'expired', undefined])
  })

  it('without a supported language from the browser, DEFAULT_LOCALE (fr here)', async () => {
    const browser = system.browser()
    const answer = await browser.get(`${system.url}/connect/raven?session=rc_cs_unknown`, { 'accept-language': 'de-DE, it;q=0.4' })
    expect(answer.status).toBe(410)
    expect(htmlLang(answer.body)).toBe('fr')
    expect(pageText(answer.body)).toContain('Ce lien a expiré ou a déjà été utilisé')
  })

  it("the pages Node's parser answers itself follow Accept-Language too, else DEFAULT_LOCALE", async () => {
    const big = 'x'.repeat(20 * 1024)
    const withSpanish = parseRaw(await rawRequest(system, `GET /connect/raven/callback HTTP/1.1\r\nHost: x\r\nAccept-Language: es-AR, en;q=0.5\r\nX-Big: ${big}\r\n\r\n`))
    const withNone = parseRaw(await rawRequest(system, `GET /connect/raven/callback HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`))
    expect([withSpanish.status, htmlLang(withSpanish.body), mainAttribute(withSpanish.body, 'data-reason')]).toEqual([431, 'es', 'invalid_request'])
    expect([withNone.status, htmlLang(withNone.body), mainAttribute(withNone.body, 'data-reason')]).toEqual([431, 'fr', 'invalid_request'])
    expect(pageText(withSpanish.body)).toContain(CATALOGUES.es['error.badRequest.heading'])
  })

  it('refuses a locale the service does not speak, with 400 problem+json', async () => {
    const res = await fetch(`${system.url}/v1/connect-sessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${system.secrets.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ leafUserId: system.newLeafUser(), locale: 'de' }),
    })
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/problem+json')
  })
})
