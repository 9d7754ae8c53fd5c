import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { Browser } from 'playwright-core'

import type { Demo } from '../../sandboxes/demo/run-demo.js'
import { BROWSER_TEST_TIMEOUT_MS, fitsWidth, launchChromium, screenshot, signInAndDecide, startTestDemo, withContextPage, hostConnectUrl, type PageRun } from './chromium.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

let demo: Demo
let browser: Browser

beforeAll(async () => {
  ;[demo, browser] = await Promise.all([startTestDemo(), launchChromium()])
}, BROWSER_TEST_TIMEOUT_MS)

afterAll(async () => {
  await browser?.close()
  await demo?.close()
}, BROWSER_TEST_TIMEOUT_MS)

/** A fresh browser context and page per test, closed afterwards. */
const withPage = <T>(run: PageRun<T>): Promise<T> => withContextPage(browser, run)

/** The Leaf user the demo grower maps to (the Leaf sandbox knows it by externalId). */
function demoLeafUserId(): string {
  const user = [...demo.leaf.state.users.values()].find((candidate) => candidate.externalId === 'demo-grower')
  if (!user) throw new Error('the demo grower is missing at the Leaf sandbox')
  return user.id
}

describe('Connect Raven in a real browser, redirect mode (the demo host app)', () => {
  it('connects: Connect Raven, sign in and Allow at Raven, back on the host page showing Connected and the live status', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
      await screenshot(page, 'demo-page')

      await page.getByRole('button', { name: 'Connect Raven', exact: true }).click()
      await page.waitForURL((url) => url.href.startsWith(demo.ravenIssuer))
      await signInAndDecide(page, 'Allow')
      await page.waitForURL((url) => url.href.startsWith(`${demo.hostUrl}/?`))

      const landed = new URL(page.url())
      expect(landed.searchParams.getAll('raven')).toEqual(['connected'])
      await expect(page.locator('#result h2').textContent()).resolves.toBe('Connected')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      const credential = demo.leaf.state.credentialFor(demoLeafUserId())
      expect(credential).toBeDefined()
      await expect(page.locator('.facts').textContent()).resolves.toContain(credential?.id ?? 'missing')
      await expect(demo.raven.isRefreshTokenActive(credential?.refreshToken ?? '')).resolves.toBe(true)

      // Troubleshooting events are shown, with every secret Leaf wrote into them redacted.
      await expect(page.locator('table tbody tr').count()).resolves.toBeGreaterThan(0)
      const html = await page.content()
      expect(html).toContain('[REDACTED]')
      for (const secret of [...(demo.leaf.state.eventSecrets.get(demoLeafUserId()) ?? []), credential?.refreshToken ?? 'x']) {
        expect(html).not.toContain(secret)
      }
      expect(problems.list).toEqual([])
      await screenshot(page, 'redirect-connected')
    })
  })

  it('disconnects: the Disconnect button removes the credential at Leaf and the page says so', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      await page.getByRole('button', { name: 'Disconnect' }).click()
      await page.waitForURL(`${demo.hostUrl}/?notice=disconnected`)
      await expect(page.locator('#result h2').textContent()).resolves.toBe('Disconnected')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      await expect(page.getByRole('button', { name: 'Disconnect' }).count()).resolves.toBe(0)
      expect(demo.leaf.state.credentialFor(demoLeafUserId())).toBeUndefined()
      expect(problems.list).toEqual([])
      await screenshot(page, 'redirect-disconnected')
    })
  })

  it('declined consent: Decline at Raven comes back as raven=error&reason=access_denied, in words, nothing stored', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await page.getByRole('button', { name: 'Connect Raven', exact: true }).click()
      await page.waitForURL((url) => url.href.startsWith(demo.ravenIssuer))
      await signInAndDecide(page, 'Decline')
      await page.waitForURL((url) => url.href.startsWith(`${demo.hostUrl}/?`))

      const landed = new URL(page.url())
      expect(landed.searchParams.get('raven')).toBe('error')
      expect(landed.searchParams.get('reason')).toBe('access_denied')
      await expect(page.locator('#result h2').textContent()).resolves.toBe('Not connected: you declined')
      await expect(page.locator('#result').textContent()).resolves.toContain('nothing was shared')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      expect(demo.leaf.state.credentialFor(demoLeafUserId())).toBeUndefined()
      expect(problems.list).toEqual([])
      await screenshot(page, 'redirect-declined')
    })
  })

  it('a used connect link shows raven-connect’s own page: readable on a phone, no inline script, what to do next', async () => {
    await withPage(async (page, problems, context) => {
      await page.setViewportSize({ width: 390, height: 844 })
      // A connect URL from the host backend, as its page script would get one.
      const connectUrl = await hostConnectUrl(context, demo)
      await page.goto(connectUrl)
      expect(page.url().startsWith(demo.ravenIssuer)).toBe(true)
      const again = await page.goto(connectUrl)
      expect(again?.status()).toBe(410)
      await expect(page.locator('main').getAttribute('data-raven')).resolves.toBe('error')
      await expect(page.locator('h1').textContent()).resolves.toBe('This link has expired or was already used')
      await expect(page.locator('main').textContent()).resolves.toContain('choose Connect Raven again')
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
      await expect(fitsWidth(page)).resolves.toBe(true)
      expect(problems.list).toEqual([])
      await screenshot(page, 'launch-link-used-phone')
    })
  })
})
