import { describe, expect, it, jest } from '@jest/globals'
import type { Page } from 'playwright-core'

import { waitFor } from '../helpers/kit/index.js'
import { BROWSER_TEST_TIMEOUT_MS, demoLeafUserId, expectCleanRun, signInAndDecide, useDemoInChromium } from './chromium.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

const { demo, withPage } = useDemoInChromium()

/** Clicks the named connect button on the host page and allows at Raven; waits to be back on the host page. */
async function connectVia(page: Page, button: 'Connect Raven' | 'Reconnect Raven'): Promise<void> {
  await page.getByRole('button', { name: button, exact: true }).first().click()
  await page.waitForURL((url) => url.origin === new URL(demo.ravenIssuer).origin)
  // A reconnect finds the grower still signed in at Raven: only the consent page (prompt=consent) is shown.
  const allow = page.getByRole('button', { name: 'Allow' })
  await page.locator('input[name=username]').or(allow).first().waitFor()
  if (await allow.count()) await allow.click()
  else await signInAndDecide(page, 'Allow')
  await page.waitForURL((url) => url.href.startsWith(`${demo.hostUrl}/?`))
}

describe('the life of a connection, in the demo (a real browser)', () => {
  it('connect → Break this connection → the host page asks the grower to reconnect → Reconnect Raven → healthy again', async () => {
    await withPage(async (page, problems) => {
      await page.goto(demo.hostUrl)
      await connectVia(page, 'Connect Raven')
      await expect(page.locator('#connection-status').textContent()).resolves.toBe('Connected')
      await expect(page.locator('#connection-life').getAttribute('data-health')).resolves.toBe('ok')
      const first = demo.leaf.state.credentialFor(demoLeafUserId(demo))?.id

      await page.getByRole('button', { name: 'Break this connection' }).click()
      await page.waitForURL(`${demo.hostUrl}/?notice=broken`)
      await expect(page.locator('#reconnect h2').textContent()).resolves.toBe('Raven needs you to reconnect')
      await expect(page.locator('#reconnect').getAttribute('data-health')).resolves.toBe('unauthenticated')
      // The connection.broken webhook reaches the host's receiver too (queued, so it may take a moment).
      await waitFor('the connection.broken webhook on the host page', async () => {
        await page.reload()
        return (await page.locator('#broken-webhook').count()) > 0
      }, 20_000, 500)
      await expect(page.locator('#broken-webhook').textContent()).resolves.toContain('connection.broken')

      await connectVia(page, 'Reconnect Raven')
      await expect(page.locator('#connection-life').getAttribute('data-health')).resolves.toBe('ok')
      await expect(page.locator('#reconnect').count()).resolves.toBe(0)
      const second = demo.leaf.state.credentialFor(demoLeafUserId(demo))?.id
      expect(second).toBeDefined()
      expect(second).not.toBe(first)
      await expectCleanRun(page, 'connection-life', problems)
    })
  })
})
