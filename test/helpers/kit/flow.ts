// The grower's flow, step by step, as the tests drive it: create a connect link, launch it in a
// cookie-jar browser, sign in and decide at the Raven sandbox, and stop at Raven's redirect back to
// the callback, unrequested, so each test decides when, how and from which browser it lands.
import type { CreateConnectSessionBody } from '../../../src/connect-links/schemas.js'
import type { TestBrowser } from '../browser.js'
import { driveConsent } from '../consent-driver.js'
import type { TestSystem } from '../system.js'

export type Decision = 'allow' | 'decline'

/** The connect session's body (the wire type: a renamed field breaks the build), plus how to run the flow. */
export interface FlowOptions extends Pick<CreateConnectSessionBody, 'returnTo' | 'mode' | 'locale'> {
  /** The browser to run in; default a new one. */
  browser?: TestBrowser
  /** Default: a new Leaf user at the Leaf sandbox. */
  leafUserId?: string
  /** At Raven's consent page; default allow. */
  decision?: Decision
}

export interface LaunchedFlow {
  browser: TestBrowser
  leafUserId: string
  connectSessionId: string
  connectUrl: string
  /** Where the launch sent the browser: Raven's authorization endpoint with the flow's parameters. */
  authorizeUrl: URL
  state: string
}

export interface FlowAtCallback extends LaunchedFlow {
  /** Raven's redirect back to the service, not yet requested. */
  callbackUrl: URL
  /** The authorization code in it ('' when Raven answered an error). */
  code: string
}

/** Opens a connect link; the service must answer 303 to Raven. Returns Raven's authorization URL. */
export async function launch(browser: TestBrowser, connectUrl: string): Promise<URL> {
  const answer = await browser.get(connectUrl)
  if (answer.status !== 303 || !answer.location) throw new Error(`launch answered ${answer.status}`)
  return new URL(answer.location)
}

/** Signs in at the Raven sandbox and clicks Allow or Decline; returns the callback URL, unrequested. */
export function consent(browser: TestBrowser, authorizeUrl: URL, decision: Decision = 'allow'): Promise<URL> {
  return driveConsent(browser, authorizeUrl, { decision })
}

/** Launches `connectUrl` and consents: for a service the test reaches without a TestSystem. */
export async function consentUpToCallback(browser: TestBrowser, connectUrl: string, decision: Decision = 'allow'): Promise<URL> {
  return consent(browser, await launch(browser, connectUrl), decision)
}

/** Creates a connect session (the host backend's call) and launches it; stops at Raven's authorization URL. */
export async function launchFlow(system: TestSystem, options: FlowOptions = {}): Promise<LaunchedFlow> {
  const browser = options.browser ?? system.browser()
  const leafUserId = options.leafUserId ?? system.newLeafUser()
  const body: CreateConnectSessionBody = {
    leafUserId,
    ...(options.returnTo ? { returnTo: options.returnTo } : {}),
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.locale ? { locale: options.locale } : {}),
  }
  const session = await system.createConnectSession(body)
  const authorizeUrl = await launch(browser, session.connectUrl)
  return {
    browser,
    leafUserId,
    connectSessionId: session.id,
    connectUrl: session.connectUrl,
    authorizeUrl,
    state: authorizeUrl.searchParams.get('state') ?? '',
  }
}

/** Launches a flow and consents (or declines) at Raven; returns Raven's redirect to the callback, unrequested. */
export async function flowToCallback(system: TestSystem, options: FlowOptions = {}): Promise<FlowAtCallback> {
  const flow = await launchFlow(system, options)
  const callbackUrl = await consent(flow.browser, flow.authorizeUrl, options.decision)
  return { ...flow, callbackUrl, code: callbackUrl.searchParams.get('code') ?? '' }
}

/** The callback URL with a hand-written query (order and repeats kept exactly as given). */
export function callbackWith(system: Pick<TestSystem, 'url'>, query: string): string {
  return `${system.url}/connect/raven/callback${query ? `?${query}` : ''}`
}
