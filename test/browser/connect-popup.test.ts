import { describe, expect, it, jest } from '@jest/globals'
import type { Page } from 'playwright-core'

import { DEMO_BRAND } from '../../sandboxes/demo/host-app.js'
import { BROWSER_TEST_TIMEOUT_MS, demoLeafUserId, expectCleanRun, fitsWidth, openConnectLinkOnPhone, resultHeading, signInAndDecide, useDemoInChromium, watch, type PageProblems } from './chromium.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

/** Past Chromium's 5 s transient user activation. */
const ACTIVATION_EXPIRED_MS = 6000

// The popup blocker stays on, as in a grower's browser: the SDK must open the popup during the click.
const { demo, withPage } = useDemoInChromium({ popupBlocker: true })

/** Clicks "Connect Raven in a popup" on the host page; returns the popup once it shows Raven. */
async function openPopup(page: Page): Promise<{ popup: Page; popupProblems: PageProblems; closed: Promise<unknown> }> {
  await page.goto(demo.hostUrl)
  // Enabled once the page's script has imported the SDK from raven-connect (CORS + CSP allow it).
  await page.waitForSelector('#connect-popup:not([disabled])')
  const opened = page.waitForEvent('popup')
  await page.getByRole('button', { name: 'Connect Raven in a popup' }).click()
  const popup = await opened
  const popupProblems = watch(popup)
  const closed = popup.waitForEvent('close')
  await popup.waitForURL((url) => url.origin === new URL(demo.ravenIssuer).origin)
  return { popup, popupProblems, closed }
}

/** Signs in and decides in the popup; once it has closed, returns where the host page landed. */
async function decideInPopup(page: Page, decision: 'Allow' | 'Decline'): Promise<{ landed: URL; popupProblems: PageProblems }> {
  const { popup, popupProblems, closed } = await openPopup(page)
  await signInAndDecide(popup, decision)
  await closed
  await page.waitForURL((url) => url.searchParams.get('via') === 'popup')
  return { landed: new URL(page.url()), popupProblems }
}

/** Waits for the host page to report the popup's failure; returns its code (`?popup=`). */
async function popupFailure(page: Page): Promise<string | null> {
  await page.waitForURL((url) => url.searchParams.has('popup'))
  return new URL(page.url()).searchParams.get('popup')
}

describe('Connect Raven in a real browser, popup mode (the browser SDK)', () => {
  it('connects: the popup signs in and allows at Raven, posts the result to the host page and closes itself', async () => {
    await withPage(async (page, problems) => {
      const { landed, popupProblems } = await decideInPopup(page, 'Allow')
      expect(landed.searchParams.get('raven')).toBe('connected')
      await expect(resultHeading(page)).resolves.toBe('Connected')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      expect(demo.leaf.state.credentialFor(demoLeafUserId(demo))).toBeDefined()
      await expectCleanRun(page, 'popup-connected', problems, popupProblems)
    })
  })

  it('declined consent in the popup comes back to the host page as access_denied', async () => {
    await withPage(async (page, problems) => {
      const { landed, popupProblems } = await decideInPopup(page, 'Decline')
      expect(landed.searchParams.get('raven')).toBe('error')
      expect(landed.searchParams.get('reason')).toBe('access_denied')
      await expect(resultHeading(page)).resolves.toBe('Not connected: you declined')
      await expectCleanRun(page, 'popup-declined', problems, popupProblems)
    })
  })

  it('a popup the grower closes early rejects with popup_closed, and the host page says nothing changed', async () => {
    await withPage(async (page, problems) => {
      const { popup, closed } = await openPopup(page)
      await popup.close()
      await closed
      expect(await popupFailure(page)).toBe('popup_closed')
      await expect(resultHeading(page)).resolves.toBe('Popup closed')
      await expect(page.locator('#result').textContent()).resolves.toContain('Nothing changed')
      await expectCleanRun(page, 'popup-closed', problems)
    })
  })

  it('a popup the browser blocks (no click) rejects with popup_blocked, and the host page explains it', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await page.waitForSelector('#connect-popup:not([disabled])')
      // Playwright evaluates with a user gesture; Chromium's transient activation lasts 5 s. Waiting
      // past it leaves window.open without activation, as for a script that runs long after a click.
      const code = await page.evaluate(
        async ({ sdkUrl, waitMs }) => {
          const sdk = (await import(sdkUrl)) as { connectRaven(url: string): Promise<unknown> }
          await new Promise((resolve) => setTimeout(resolve, waitMs))
          const outcome = sdk.connectRaven(`${new URL(sdkUrl).origin}/connect/raven?session=never-used`).then(
            () => 'resolved',
            (err: { code?: string }) => err.code ?? 'no code',
          )
          // If a popup did open, the promise would wait for it: answer rather than hang.
          return Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('popup opened'), 5000))])
        },
        { sdkUrl: `${demo.serviceUrl}/sdk/raven-connect.js`, waitMs: ACTIVATION_EXPIRED_MS },
      )
      expect(code).toBe('popup_blocked')

      // Through the page: a scripted click after the activation expired opens nothing either.
      await page.evaluate((waitMs) => {
        setTimeout(() => document.getElementById('connect-popup')?.click(), waitMs)
      }, ACTIVATION_EXPIRED_MS)
      expect(await popupFailure(page)).toBe('popup_blocked')
      await expect(resultHeading(page)).resolves.toBe('The popup was blocked')
      await expectCleanRun(page, 'popup-blocked', problems)
    })
  })

  it('without an opener the popup end page stays open and readable on a phone, naming only the returnTo origin', async () => {
    await withPage(async (page, problems, context) => {
      // A popup-mode link opened in a plain tab (e.g. copied, or the opener navigated away).
      await openConnectLinkOnPhone(page, context, demo)
      await signInAndDecide(page, 'Allow')
      await page.waitForURL((url) => url.href.startsWith(`${demo.serviceUrl}/connect/raven/callback`))
      await page.waitForLoadState('load')

      const main = page.locator('main')
      await expect(main.getAttribute('data-raven')).resolves.toBe('connected')
      await expect(main.getAttribute('data-target-origin')).resolves.toBe(demo.hostUrl)
      await expect(page.locator('h1').textContent()).resolves.toBe(`Raven is connected to ${DEMO_BRAND.appName}`)
      await expect(main.textContent()).resolves.toContain(`go back to ${DEMO_BRAND.appName}`)
      expect(page.isClosed()).toBe(false)
      await expect(fitsWidth(page)).resolves.toBe(true)
      await expectCleanRun(page, 'popup-end-page-no-opener-phone', problems)
    })
  })
})
