import { describe, expect, it, jest } from '@jest/globals'
import type { Page } from 'playwright-core'

import { BROWSER_TEST_TIMEOUT_MS, demoLeafUserId, expectCleanRun, fitsWidth, openConnectLinkOnPhone, resultHeading, screenshot, signInAndDecide, useDemoInChromium } from './chromium.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

const { demo, withPage } = useDemoInChromium()

/** On the host page: clicks Connect Raven, signs in and decides at Raven; returns where the grower lands. */
async function connectFromHostPage(page: Page, decision: 'Allow' | 'Decline'): Promise<URL> {
  await page.getByRole('button', { name: 'Connect Raven', exact: true }).click()
  await page.waitForURL((url) => url.origin === new URL(demo.ravenIssuer).origin)
  await signInAndDecide(page, decision)
  await page.waitForURL((url) => url.href.startsWith(`${demo.hostUrl}/?`))
  return new URL(page.url())
}

describe('Connect Raven in a real browser, redirect mode (the demo host app)', () => {
  it('connects: Connect Raven, sign in and Allow at Raven, back on the host page showing Connected and the live status', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
      await screenshot(page, 'demo-page')

      const landed = await connectFromHostPage(page, 'Allow')
      expect(landed.searchParams.getAll('raven')).toEqual(['connected'])
      await expect(resultHeading(page)).resolves.toBe('Connected')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      const credential = demo.leaf.state.credentialFor(demoLeafUserId(demo))
      expect(credential).toBeDefined()
      await expect(page.locator('.facts').textContent()).resolves.toContain(credential?.id ?? 'missing')
      await expect(demo.raven.isRefreshTokenActive(credential?.refreshToken ?? '')).resolves.toBe(true)

      // Troubleshooting events are shown, with every secret Leaf wrote into them redacted.
      await expect(page.locator('table tbody tr').count()).resolves.toBeGreaterThan(0)
      const html = await page.content()
      expect(html).toContain('[REDACTED]')
      for (const secret of [...(demo.leaf.state.eventSecrets.get(demoLeafUserId(demo)) ?? []), credential?.refreshToken ?? 'x']) {
        expect(html).not.toContain(secret)
      }
      await expectCleanRun(page, 'redirect-connected', problems)
    })
  })

  it('disconnects: the Disconnect button removes the credential at Leaf and the page says so', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      await page.getByRole('button', { name: 'Disconnect' }).click()
      await page.waitForURL(`${demo.hostUrl}/?notice=disconnected`)
      await expect(resultHeading(page)).resolves.toBe('Disconnected')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      await expect(page.getByRole('button', { name: 'Disconnect' }).count()).resolves.toBe(0)
      expect(demo.leaf.state.credentialFor(demoLeafUserId(demo))).toBeUndefined()
      await expectCleanRun(page, 'redirect-disconnected', problems)
    })
  })

  it('declined consent: Decline at Raven comes back as raven=error&reason=access_denied, in words, nothing stored', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      const landed = await connectFromHostPage(page, 'Decline')
      expect(landed.searchParams.get('raven')).toBe('error')
      expect(landed.searchParams.get('reason')).toBe('access_denied')
      await expect(resultHeading(page)).resolves.toBe('Not connected: you declined')
      await expect(page.locator('#result').textContent()).resolves.toContain('nothing was shared')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Not connected')
      expect(demo.leaf.state.credentialFor(demoLeafUserId(demo))).toBeUndefined()
      await expectCleanRun(page, 'redirect-declined', problems)
    })
  })

  it('a used connect link shows raven-connect’s own page: readable on a phone, no inline script, what to do next', async () => {
    await withPage(async (page, problems, context) => {
      // A connect URL from the host backend, as its page script would get one.
      const connectUrl = await openConnectLinkOnPhone(page, context, demo)
      expect(new URL(page.url()).origin === new URL(demo.ravenIssuer).origin).toBe(true)
      const again = await page.goto(connectUrl)
      expect(again?.status()).toBe(410)
      await expect(page.locator('main').getAttribute('data-raven')).resolves.toBe('error')
      await expect(page.locator('h1').textContent()).resolves.toBe('This link has expired or was already used')
      await expect(page.locator('main').textContent()).resolves.toContain('choose Connect Raven again')
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en')
      await expect(fitsWidth(page)).resolves.toBe(true)
      await expectCleanRun(page, 'launch-link-used-phone', problems)
    })
  })
})
