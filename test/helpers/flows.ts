import type { TestBrowser, BrowserResponse } from './browser.js'
import { driveConsent } from './consent-driver.js'
import type { TestSystem } from './system.js'

export interface StartedFlow {
  browser: TestBrowser
  leafUserId: string
  authorizeUrl: URL
  connectSessionId: string
}

/** Creates a connect session for a new (or given) Leaf user and launches it in a browser. */
export async function launchFlow(
  system: TestSystem,
  body: Record<string, unknown> = {},
  browser: TestBrowser = system.browser(),
): Promise<StartedFlow> {
  const leafUserId = typeof body.leafUserId === 'string' ? body.leafUserId : system.newLeafUser()
  const session = await system.createConnectSession({ leafUserId, ...body })
  const launch = await browser.get(session.connectUrl)
  if (launch.status !== 303 || !launch.location) throw new Error(`launch answered ${launch.status}`)
  return { browser, leafUserId, authorizeUrl: new URL(launch.location), connectSessionId: session.id }
}

/** Launches, consents (or declines) at the Raven sandbox, and returns the callback URL not yet requested. */
export async function flowToCallback(
  system: TestSystem,
  options: { body?: Record<string, unknown>; decision?: 'allow' | 'decline'; browser?: TestBrowser } = {},
): Promise<StartedFlow & { callbackUrl: URL }> {
  const flow = await launchFlow(system, options.body, options.browser)
  const callbackUrl = await driveConsent(flow.browser, flow.authorizeUrl, { decision: options.decision ?? 'allow' })
  return { ...flow, callbackUrl }
}

/** The result a callback response carries: from the returnTo redirect or from the result page. */
export function resultOf(response: BrowserResponse): { raven: string | null; reason: string | null; status: number } {
  if (response.status === 303 && response.location) {
    const url = new URL(response.location)
    return { raven: url.searchParams.get('raven'), reason: url.searchParams.get('reason'), status: response.status }
  }
  const raven = /<main[^>]*\sdata-raven="([^"]*)"/.exec(response.body)?.[1] ?? null
  const reason = /<main[^>]*\sdata-reason="([^"]*)"/.exec(response.body)?.[1] ?? null
  return { raven, reason, status: response.status }
}
