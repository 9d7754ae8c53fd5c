import { describe, expect, it } from '@jest/globals'

import { NEUTRAL_ACCENT } from '../src/http/brand-stylesheet.js'
import { flowToCallback, htmlLang, mainAttribute, pageText, useSystem } from './helpers/kit/index.js'

// The host's brand on the grower's pages: APP_NAME in the words, BRAND_LOGO_URL as an image from
// that origin only (the logo URL here is never fetched: the tests read the markup and the CSP),
// BRAND_COLOR through a generated stylesheet, never inline. Unset, the pages stay neutral and complete.

const LOGO = 'https://cdn.acme.example/brand/logo.svg'

/** The directive `name` of a Content-Security-Policy header, as a list of sources. */
function cspDirective(header: string | null, name: string): string[] | undefined {
  const directive = (header ?? '').split(';').map((part) => part.trim().split(/\s+/)).find(([directiveName]) => directiveName === name)
  return directive?.slice(1)
}

describe('with APP_NAME, BRAND_LOGO_URL and BRAND_COLOR', () => {
  const system = useSystem({ env: { APP_NAME: 'Acme Farms', BRAND_LOGO_URL: LOGO, BRAND_COLOR: '#AA3300' } })

  it('the result page names the app, shows the logo from its https origin, and the CSP allows that origin only', async () => {
    const flow = await flowToCallback(system, { locale: 'en' })
    const page = await flow.browser.get(flow.callbackUrl.href)
    expect(page.status).toBe(200)
    expect(pageText(page.body)).toContain('Raven is connected to Acme Farms')
    expect(page.body).toMatch(/<header class="brand"><img class="brand-logo" src="([^"]+)" alt="" height="40"><span class="brand-name">Acme Farms<\/span><\/header>/)
    const src = /<img class="brand-logo" src="([^"]+)"/.exec(page.body)?.[1] ?? ''
    expect(src.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))).toBe(LOGO)
    const csp = page.headers.get('content-security-policy')
    expect(cspDirective(csp, 'img-src')).toEqual(["'self'", 'data:', 'https://cdn.acme.example'])
    expect(cspDirective(csp, 'style-src')).toEqual(["'self'"])
    expect(cspDirective(csp, 'script-src')).toEqual(["'self'"])
    expect(page.body).toContain('<link rel="stylesheet" href="/assets/brand.css">')
  })

  it('the brand colour arrives as /assets/brand.css (text/css, from the config, lowercased)', async () => {
    const res = await fetch(`${system.url}/assets/brand.css`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/css')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const css = await res.text()
    expect(css).toContain('--accent: #aa3300;')
    expect(css).not.toContain(NEUTRAL_ACCENT)
  })

  it('pages outside a flow carry the brand too, in the browser’s language', async () => {
    const answer = await system.browser().get(`${system.url}/connect/raven?session=rc_cs_unknown`, { 'accept-language': 'fr' })
    expect(answer.status).toBe(410)
    expect(htmlLang(answer.body)).toBe('fr')
    expect(pageText(answer.body)).toContain('Retournez sur Acme Farms')
    expect(answer.body).toContain('class="brand-logo"')
    expect(mainAttribute(answer.body, 'data-reason')).toBe('expired')
  })
})

describe('without brand settings', () => {
  const system = useSystem()

  it('the pages are neutral and complete: no header, "your app", the neutral accent, img-src self and data: only', async () => {
    const flow = await flowToCallback(system, {})
    const page = await flow.browser.get(flow.callbackUrl.href, { 'accept-language': 'en' })
    expect(page.status).toBe(200)
    expect(pageText(page.body)).toContain('Raven is connected to your app')
    expect(page.body).not.toContain('<header')
    expect(page.body).not.toContain('<img')
    expect(page.body).toMatch(/<svg class="icon"[^>]*aria-hidden="true"/)
    expect(page.body).toContain('What to do next')
    expect(cspDirective(page.headers.get('content-security-policy'), 'img-src')).toEqual(["'self'", 'data:'])
    const css = await (await fetch(`${system.url}/assets/brand.css`)).text()
    expect(css).toContain(`--accent: ${NEUTRAL_ACCENT};`)
  })
})
