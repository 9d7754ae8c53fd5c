import { describe, expect, it } from '@jest/globals'

import { renderPopupPage, renderResultPage } from '../src/consent/result-pages.js'
import type { ConnectOutcome } from '../src/consent/outcome.js'
import { NEUTRAL_PAGE_CONTEXT } from '../src/http/page-context.js'
import { decodeEntities } from './helpers/browser.js'
import { expectNoInlineCode, flowToCallback, mainAttribute, useSystem } from './helpers/kit/index.js'

// The browser tests (test/browser/) show popup mode working in Chromium; these pin the HTTP side:
// what the popup end page carries, and how the SDK is served to a host page on another origin.

const system = useSystem()

const outcomes: ConnectOutcome[] = [
  { raven: 'connected' },
  { raven: 'pending' },
  { raven: 'error', reason: 'access_denied' },
  { raven: 'error', reason: 'server_error' },
]

describe('the popup end page', () => {
  it.each(outcomes)('for %j: the result page plus popup.js and the exact target origin, nothing inline', (outcome) => {
    const html = renderPopupPage(outcome, 'https://app.example.test', NEUTRAL_PAGE_CONTEXT)
    expect(mainAttribute(html, 'data-raven')).toBe(outcome.raven)
    expect(mainAttribute(html, 'data-reason')).toBe(outcome.raven === 'error' ? outcome.reason : undefined)
    expect(mainAttribute(html, 'data-target-origin')).toBe('https://app.example.test')
    expect(decodeEntities(html)).toContain('<script type="module" src="/assets/popup.js"></script>')
    expect(html).toContain('<html lang="en">')
    expect(html).toContain('name="viewport"')
    expectNoInlineCode(html)
    // Same words as the redirect-mode result page, so it reads the same when no opener is there.
    const heading = /<h1>(.*?)<\/h1>/.exec(renderResultPage(outcome, NEUTRAL_PAGE_CONTEXT))?.[1]
    expect(heading).toBeTruthy()
    expect(html).toContain(`<h1>${heading}</h1>`)
  })

  it('names no target origin without a returnTo, so popup.js posts nothing', () => {
    const html = renderPopupPage({ raven: 'connected' }, undefined, NEUTRAL_PAGE_CONTEXT)
    expect(mainAttribute(html, 'data-target-origin')).toBeUndefined()
  })

  it('ends a real popup-mode flow with COOP unsafe-none, the strict CSP and the returnTo origin only', async () => {
    const flow = await flowToCallback(system, { mode: 'popup', returnTo: `${system.returnOrigin}/settings/raven?tab=1#x` })
    const callback = await flow.browser.get(flow.callbackUrl.href)

    expect(callback.status).toBe(200)
    expect(callback.headers.get('cross-origin-opener-policy')).toBe('unsafe-none')
    expect(callback.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(callback.headers.get('cache-control')).toContain('no-store')
    expect(mainAttribute(callback.body, 'data-raven')).toBe('connected')
    // The origin only: never the path, query or fragment of returnTo, never '*'.
    expect(mainAttribute(callback.body, 'data-target-origin')).toBe(system.returnOrigin)
    expectNoInlineCode(callback.body)
    expect(system.leaf.state.credentialFor(flow.leafUserId)).toBeDefined()
  })

  it('serves popup.js from /assets as JavaScript', async () => {
    const res = await fetch(`${system.url}/assets/popup.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^(text|application)\/javascript/)
    const source = await res.text()
    expect(source).toContain('window.opener.postMessage(message, targetOrigin)')
    expect(source).not.toMatch(/postMessage\([^)]*['"]\*['"]/)
  })
})

describe('GET /sdk/raven-connect.js', () => {
  it('answers a RETURN_TO_ORIGINS page with CORS for its exact origin and a cross-origin resource policy', async () => {
    const res = await fetch(`${system.url}/sdk/raven-connect.js`, { headers: { Origin: system.returnOrigin } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect(res.headers.get('access-control-allow-origin')).toBe(system.returnOrigin)
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    expect(res.headers.get('vary')).toMatch(/Origin/i)
    expect(await res.text()).toMatch(/export function connectRaven\(connectUrl\)/)
  })

  it('gives other origins no CORS grant', async () => {
    for (const origin of ['https://evil.example', 'null', `${system.returnOrigin}.evil.example`]) {
      const res = await fetch(`${system.url}/sdk/raven-connect.js`, { headers: { Origin: origin } })
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  it('is a dependency-free ES module exporting connectRaven, also as its default export', async () => {
    const source = await (await fetch(`${system.url}/sdk/raven-connect.js`)).text()
    expect(source).not.toMatch(/^\s*import\s/m)
    const sdk = (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as {
      connectRaven: unknown
      default: unknown
    }
    expect(typeof sdk.connectRaven).toBe('function')
    expect(sdk.default).toBe(sdk.connectRaven)
  })
})
