import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import type { Browser, Page } from 'playwright-core'

import type { PageSettings } from '../../src/config/load-config.js'
import { LOCALES, type Locale } from '../../src/i18n/locales.js'
import { translator } from '../../src/i18n/messages.js'
import { BROWSER_TEST_TIMEOUT_MS, axeViolations, fitsWidth, launchChromium, screenshot, watch } from './chromium.js'
import { PREVIEW_PAGES, startPagePreview, type PagePreview, type PreviewPage } from './page-preview.js'

jest.setTimeout(BROWSER_TEST_TIMEOUT_MS)

// Every page the service shows the grower, in each language, on a 360 px phone and a desktop, light
// and dark: the language, the brand and the data-raven/data-reason codes asserted, axe-core finds
// nothing, and a screenshot of each lands in test-artifacts/browser/pages/.

const LOGO = 'https://cdn.acme.example/brand/logo.svg'
const SETTINGS: PageSettings = { appName: 'Acme Farms', logoUrl: LOGO, brandColor: '#8a2be2', defaultLocale: 'en' }
/** The logo, answered inside Chromium: the https URL is never fetched from the network. */
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40"><rect width="40" height="40" rx="8" fill="#8a2be2"/><path d="M10 28 20 10l10 18z" fill="#fff"/></svg>'
const PHONE = { width: 360, height: 740 }
const DESKTOP = { width: 1280, height: 800 }

let browser: Browser | undefined
let preview: PagePreview | undefined

beforeAll(async () => {
  ;[browser, preview] = await Promise.all([launchChromium(), startPagePreview(SETTINGS)])
}, BROWSER_TEST_TIMEOUT_MS)

afterAll(async () => {
  await browser?.close()
  await preview?.close()
})

/** What every page must show, whatever its language and size. */
async function expectPageShown(page: Page, shown: PreviewPage, locale: Locale): Promise<void> {
  const t = translator(locale, SETTINGS.appName)
  const main = page.locator('main')
  expect({
    page: shown.name,
    lang: await page.locator('html').getAttribute('lang'),
    raven: await main.getAttribute('data-raven'),
    reason: await main.getAttribute('data-reason'),
    heading: await page.locator('h1').textContent(),
    brand: await page.locator('header.brand .brand-name').textContent(),
    nextStep: await page.locator('.next-step h2').textContent(),
  }).toEqual({
    page: shown.name,
    lang: locale,
    raven: shown.raven,
    reason: shown.reason ?? null,
    heading: t(shown.headingKey),
    brand: 'Acme Farms',
    nextStep: t('page.nextStep'),
  })
  await expect(page.locator('main svg.icon').isVisible()).resolves.toBe(true)
  await expect(page.locator('.next-step p').isVisible()).resolves.toBe(true)
  // The logo came from its https origin (answered in the browser) and rendered.
  await expect(page.locator('img.brand-logo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true)
  await expect(page.locator('img.brand-logo').getAttribute('src')).resolves.toBe(LOGO)
  // BRAND_COLOR reached the page through /assets/brand.css (the CSP allows no inline style).
  await expect(main.evaluate((element) => getComputedStyle(element).borderTopColor)).resolves.toBe('rgb(138, 43, 226)')
  await expect(fitsWidth(page)).resolves.toBe(true)
}

describe('the grower’s pages in Chromium: every outcome, every language, phone and desktop, light and dark', () => {
  it.each(LOCALES)('%s', async (locale) => {
    if (!browser || !preview) throw new Error('Chromium or the page preview is not running')
    const context = await browser.newContext({ viewport: PHONE, locale })
    const logoRequests: string[] = []
    await context.route(`${new URL(LOGO).origin}/**`, (route) => {
      logoRequests.push(route.request().url())
      return route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG })
    })
    try {
      const page = await context.newPage()
      const problems = watch(page)
      for (const shown of PREVIEW_PAGES) {
        await page.emulateMedia({ colorScheme: 'light' })
        await page.setViewportSize(PHONE)
        await page.goto(preview.pageUrl(shown, locale))
        await expectPageShown(page, shown, locale)
        expect({ page: shown.name, scheme: 'light', violations: await axeViolations(page) }).toEqual({ page: shown.name, scheme: 'light', violations: [] })
        await screenshot(page, `pages/${locale}/${shown.name}-phone`)

        await page.emulateMedia({ colorScheme: 'dark' })
        expect({ page: shown.name, scheme: 'dark', violations: await axeViolations(page) }).toEqual({ page: shown.name, scheme: 'dark', violations: [] })
        await screenshot(page, `pages/${locale}/${shown.name}-phone-dark`)

        await page.emulateMedia({ colorScheme: 'light' })
        await page.setViewportSize(DESKTOP)
        await expectPageShown(page, shown, locale)
        await screenshot(page, `pages/${locale}/${shown.name}-desktop`)
      }
      // No CSP violation (no inline script or style, the logo's origin allowed) and no page error.
      expect(problems.list).toEqual([])
      expect(logoRequests.every((url) => url === LOGO)).toBe(true)
    } finally {
      await context.close()
    }
  })
})
