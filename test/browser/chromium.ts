import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterAll, beforeAll, expect } from '@jest/globals'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

import { DEFAULT_GROWER } from '../../sandboxes/raven/server.js'
import type { Demo } from '../../sandboxes/demo/run-demo.js'
import { startIsolatedDemo } from '../helpers/kit/demo.js'
import { standIn } from '../helpers/kit/stand-in.js'

/*
 * Shared pieces of the browser tests: Debian's Chromium driven by playwright-core (never
 * `playwright install`; .ci/run apt-installs chromium), the demo started on free ports against a
 * Redis of its own, the Raven sandbox's sign-in and consent, screenshots under test-artifacts/.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/browser/', import.meta.url))
/** A 2-core machine shared with other test workers: generous, but bounded. */
export const BROWSER_TEST_TIMEOUT_MS = 120_000
const ACTION_TIMEOUT_MS = 30_000

export interface LaunchOptions {
  /** Keep Chromium's popup blocker on (Playwright turns it off by default), as in a real browser. */
  popupBlocker?: boolean
}

/**
 * Headless Chromium with the flags a container or CI box needs. Playwright gives every launch a fresh
 * temporary user data dir (removed on close); each test then works in its own context.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    ...(options.popupBlocker ? { ignoreDefaultArgs: ['--disable-popup-blocking'] } : {}),
    timeout: 60_000,
  })
}

/** A phone-sized viewport, in CSS pixels. */
export const PHONE_VIEWPORT = { width: 390, height: 844 }

export function startTestDemo(): Promise<Demo> {
  return startIsolatedDemo({ logLevel: 'info' })
}

/** Collects Content-Security-Policy violations and page errors: the pages must have none. */
export interface PageProblems {
  list: string[]
}

export async function newPage(context: BrowserContext): Promise<{ page: Page; problems: PageProblems }> {
  const page = await context.newPage()
  return { page, problems: watch(page) }
}

/** A connectUrl from the demo host backend, as its page script would get one (status checked). */
export async function hostConnectUrl(context: BrowserContext, demo: Demo): Promise<string> {
  const created = await context.request.post(`${demo.hostUrl}/connect-session`, { headers: { Origin: demo.hostUrl }, data: {} })
  if (created.status() !== 200) throw new Error(`host /connect-session answered ${created.status()}`)
  return ((await created.json()) as { connectUrl: string }).connectUrl
}

export type PageRun<T> = (page: Page, problems: PageProblems, context: BrowserContext) => Promise<T>

export interface ContextOptions {
  /** The browser's language (navigator.language and Accept-Language), e.g. 'pt-BR'; default en-US. */
  locale?: string
}

/** Runs `run` on a new page in a new desktop-sized context, closing the context afterwards. */
export async function withContextPage<T>(browser: Browser, run: PageRun<T>, options: ContextOptions = {}): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ...(options.locale ? { locale: options.locale } : {}) })
  try {
    const { page, problems } = await newPage(context)
    return await run(page, problems, context)
  } finally {
    await context.close()
  }
}

export interface DemoInChromium {
  /** The running demo (host app, raven-connect, sandboxes): usable inside tests. */
  demo: Demo
  /** Runs `run` on a new page in a new context of the file's Chromium. */
  withPage<T>(run: PageRun<T>, options?: ContextOptions): Promise<T>
}

/** Starts the demo and Chromium (in parallel) before the file's tests and closes both after them. */
export function useDemoInChromium(options: LaunchOptions = {}): DemoInChromium {
  const demo = standIn<Demo>('the demo')
  let browser: Browser | undefined
  beforeAll(async () => {
    const [started, launched] = await Promise.all([startTestDemo(), launchChromium(options)])
    demo.set(started)
    browser = launched
  }, BROWSER_TEST_TIMEOUT_MS)
  afterAll(async () => {
    await browser?.close()
    await demo.current?.close()
  }, BROWSER_TEST_TIMEOUT_MS)
  return {
    demo: demo.proxy,
    withPage(run, options) {
      if (!browser) throw new Error('Chromium is not running: use withPage inside a test')
      return withContextPage(browser, run, options)
    },
  }
}

/** The Leaf user the demo grower maps to (the Leaf sandbox knows it by externalId). */
export function demoLeafUserId(demo: Demo): string {
  const user = [...demo.leaf.state.users.values()].find((candidate) => candidate.externalId === 'demo-grower')
  if (!user) throw new Error('the demo grower is missing at the Leaf sandbox')
  return user.id
}

/** On a phone-sized viewport, opens a fresh connect link from the host backend; returns the link. */
export async function openConnectLinkOnPhone(page: Page, context: BrowserContext, demo: Demo): Promise<string> {
  await page.setViewportSize(PHONE_VIEWPORT)
  const connectUrl = await hostConnectUrl(context, demo)
  await page.goto(connectUrl)
  return connectUrl
}

/** The heading of the host page's result panel. */
export function resultHeading(page: Page): Promise<string | null> {
  return page.locator('#result h2').textContent()
}

/** The run ends clean (no CSP violation or page error on any watched page); saves a screenshot of `page`. */
export async function expectCleanRun(page: Page, screenshotName: string, ...watched: PageProblems[]): Promise<void> {
  expect(watched.flatMap((problems) => problems.list)).toEqual([])
  await screenshot(page, screenshotName)
}

export function watch(page: Page): PageProblems {
  const problems: PageProblems = { list: [] }
  page.setDefaultTimeout(ACTION_TIMEOUT_MS)
  page.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS)
  page.on('pageerror', (err) => problems.list.push(`pageerror on ${page.url()}: ${err.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.list.push(`console on ${page.url()}: ${message.text()}`)
    }
  })
  return problems
}

/** At the Raven sandbox: sign in as the test grower, then click Allow or Decline. */
export async function signInAndDecide(page: Page, decision: 'Allow' | 'Decline'): Promise<void> {
  await page.locator('input[name=username]').fill(DEFAULT_GROWER.username)
  await page.locator('input[name=password]').fill(DEFAULT_GROWER.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: decision }).click()
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const path = join(ARTIFACTS_DIR, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/** True when the page fits its viewport's width (no sideways scrolling on a phone). */
export function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** One axe-core finding, reduced to what a failing test should print. */
export interface AxeViolation {
  id: string
  impact: string | null | undefined
  help: string
  targets: string[]
}

/**
 * Runs axe-core (WCAG 2.x A/AA and best practices) on the page as it is now: contrast, landmarks,
 * headings, names, language. Injected through the DevTools protocol, which the page's CSP does not
 * govern, so the page keeps its real CSP while it is checked.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe
    const results = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }))
  })
}
