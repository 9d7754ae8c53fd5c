import { parseForms, redirectTarget } from './browser.js'

import type { BrowserResponse, ParsedForm, TestBrowser } from './browser.js'

export interface ConsentOptions {
  decision: 'allow' | 'decline'
  /** Defaults to the sandbox's grower, grower@example.com / raven-sandbox. */
  username?: string
  password?: string
  /** Pages to get through before giving up; default 8. */
  maxSteps?: number
}

/** Where Raven sent the grower back: a redirect (query mode) or a self-submitting form (form_post). */
export type AuthorizationResponse =
  | { mode: 'query'; url: URL }
  | { mode: 'form_post'; action: URL; fields: Record<string, string> }

/**
 * Loads Raven's authorization URL, signs in, clicks Allow or Decline, and returns the redirect to the
 * client's redirect_uri WITHOUT requesting it: send it with the same browser, so the service's session
 * cookie goes along. For `response_mode=form_post` use `driveConsentResponse`.
 */
export async function driveConsent(browser: TestBrowser, authorizationUrl: string | URL, options: ConsentOptions): Promise<URL> {
  const response = await driveConsentResponse(browser, authorizationUrl, options)
  if (response.mode !== 'query') {
    throw new Error('Raven answered with a form_post page; use driveConsentResponse and post its fields')
  }
  return response.url
}

export async function driveConsentResponse(
  browser: TestBrowser,
  authorizationUrl: string | URL,
  options: ConsentOptions,
): Promise<AuthorizationResponse> {
  const ravenOrigin = new URL(authorizationUrl).origin
  // Any hop off Raven's origin is the way back to the client: stop before requesting it.
  const leavesRaven = (url: URL) => url.origin !== ravenOrigin
  let chain = await browser.follow(authorizationUrl, { stopAt: leavesRaven })
  let consentShown = false

  for (let step = 0; step < (options.maxSteps ?? 8); step++) {
    const page = chain[chain.length - 1] as BrowserResponse
    const target = redirectTarget(page)
    if (target) {
      if (options.decision === 'decline' && !consentShown) {
        throw new Error('Raven returned to the client without showing a consent page, so nothing could be declined')
      }
      return { mode: 'query', url: target }
    }
    const forms = parseForms(page.body, page.url)
    const outbound = forms.find((form) => leavesRaven(new URL(form.action)))
    if (outbound) return { mode: 'form_post', action: new URL(outbound.action), fields: outbound.fields }

    const next = await answerPage(browser, page, forms, options)
    if (next.kind === 'consent') consentShown = true
    chain = await browser.follow(next.response, { stopAt: leavesRaven })
  }
  throw new Error(`consent did not finish within ${options.maxSteps ?? 8} pages`)
}

async function answerPage(
  browser: TestBrowser,
  page: BrowserResponse,
  forms: ParsedForm[],
  options: ConsentOptions,
): Promise<{ kind: 'login' | 'consent'; response: BrowserResponse }> {
  const login = forms.find((form) => 'username' in form.fields || hasInput(page.body, 'username'))
  if (login) {
    const response = await browser.submit(login, {
      username: options.username ?? 'grower@example.com',
      password: options.password ?? 'raven-sandbox',
    })
    if (response.status === 200 && parseForms(response.body, response.url).some((f) => 'username' in f.fields)) {
      throw new Error('Raven refused the sign-in (the login form came back)')
    }
    return { kind: 'login', response }
  }
  const buttonText = options.decision === 'allow' ? 'Allow' : 'Decline'
  const consent = forms.find((form) => form.buttons.some((b) => b.text === buttonText))
  if (consent) return { kind: 'consent', response: await browser.submit(consent, {}, buttonText) }
  throw new Error(`unexpected page from Raven: ${page.status} ${page.url}\n${page.body.slice(0, 500)}`)
}

function hasInput(html: string, name: string): boolean {
  return new RegExp(`<input\\b[^>]*\\bname="${name}"`, 'i').test(html)
}
