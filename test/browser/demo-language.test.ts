import { describe, expect, it, jest } from '@jest/globals'
import type { Page } from 'playwright-core'

import { DEMO_BRAND } from '../../sandboxes/demo/host-app.js'
import { CATALOGUES } from '../../src/i18n/messages.js'
import { BROWSER_TEST_TIMEOUT_MS, PHONE_VIEWPORT, axeViolations, expectCleanRun, fitsWidth, hostConnectUrl, signInAndDecide, useDemoInChromium } from './chromium.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

// The demo in Portuguese, as a new user tries it: the host page's language switch creates connect
// sessions with that `locale`, and raven-connect's pages then speak it, wearing the demo's brand.

const { demo, withPage } = useDemoInChromium()
const pt = CATALOGUES['pt-BR']

/** Presses one of the host page's language buttons and waits for the page to show it pressed. */
async function chooseLanguage(page: Page, label: string): Promise<void> {
  await page.goto(demo.hostUrl)
  await page.getByRole('button', { name: label, exact: true }).click()
  await page.waitForURL(`${demo.hostUrl}/`)
  await expect(page.getByRole('button', { name: label, exact: true }).getAttribute('aria-pressed')).resolves.toBe('true')
}

/** The service page's language, heading, brand and codes. */
async function shown(page: Page) {
  const main = page.locator('main')
  return {
    lang: await page.locator('html').getAttribute('lang'),
    heading: await page.locator('h1').textContent(),
    brand: await page.locator('header.brand').textContent(),
    raven: await main.getAttribute('data-raven'),
    reason: await main.getAttribute('data-reason'),
  }
}

describe('the demo host page’s language switch', () => {
  it('Português chosen in an English browser: the flow’s page at raven-connect is Portuguese, with the demo’s brand', async () => {
    await withPage(async (page, problems, context) => {
      await chooseLanguage(page, 'Português (Brasil)')
      // A popup-mode link opened in a tab (no opener): the flow ends on raven-connect's own page.
      await page.setViewportSize(PHONE_VIEWPORT)
      await page.goto(await hostConnectUrl(context, demo))
      await signInAndDecide(page, 'Decline')
      await page.waitForURL((url) => url.href.startsWith(`${demo.serviceUrl}/connect/raven/callback`))
      await expect(shown(page)).resolves.toEqual({
        lang: 'pt-BR',
        heading: pt['reason.access_denied.heading'],
        brand: DEMO_BRAND.appName,
        raven: 'error',
        reason: 'access_denied',
      })
      await expect(page.locator('.next-step p').textContent()).resolves.toBe(pt['reason.access_denied.next'].replace('{app}', DEMO_BRAND.appName))
      await expect(axeViolations(page)).resolves.toEqual([])
      await expect(fitsWidth(page)).resolves.toBe(true)
      await expectCleanRun(page, 'demo-pt-BR-declined-phone', problems)
    })
  })

  it('a Portuguese browser with “Browser’s language” chosen: the used-link page is Portuguese too', async () => {
    await withPage(
      async (page, problems, context) => {
        await chooseLanguage(page, 'Browser’s language')
        const connectUrl = await hostConnectUrl(context, demo)
        await page.goto(connectUrl)
        expect(new URL(page.url()).origin).toBe(new URL(demo.ravenIssuer).origin)
        const again = await page.goto(connectUrl)
        expect(again?.status()).toBe(410)
        await expect(shown(page)).resolves.toEqual({
          lang: 'pt-BR',
          heading: pt['link.expired.heading'],
          brand: DEMO_BRAND.appName,
          raven: 'error',
          reason: 'expired',
        })
        await expect(axeViolations(page)).resolves.toEqual([])
        await expectCleanRun(page, 'demo-pt-BR-link-used', problems)
      },
      { locale: 'pt-BR' },
    )
  })
})
