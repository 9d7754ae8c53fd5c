import type { TestBrowser } from './browser.js'
import { driveConsent } from './consent-driver.js'

/**
 * Launches `connectUrl` in `browser`, signs in and allows at the Raven sandbox, and returns the
 * callback URL without requesting it, so a test decides when (and on which instance) it lands.
 */
export async function consentUpToCallback(browser: TestBrowser, connectUrl: string): Promise<URL> {
  const launch = await browser.get(connectUrl)
  if (launch.status !== 303) throw new Error(`launch answered ${launch.status}`)
  return driveConsent(browser, new URL(launch.headers.get('location') ?? ''), { decision: 'allow' })
}

/** The `raven` (and `reason`) a callback answer carries: from its redirect, or its result page. */
export function outcomeOf(response: { status: number; headers: Headers; body: string }): { raven: string | null; reason: string | null } {
  const location = response.headers.get('location')
  if (location) {
    const url = new URL(location)
    return { raven: url.searchParams.get('raven'), reason: url.searchParams.get('reason') }
  }
  return {
    raven: /data-raven="([^"]+)"/.exec(response.body)?.[1] ?? null,
    reason: /data-reason="([^"]+)"/.exec(response.body)?.[1] ?? null,
  }
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
