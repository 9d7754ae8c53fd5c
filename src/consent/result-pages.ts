import { renderMessagePage, renderPage, type PageContext, type PageOptions, type PageVisual } from '../http/html-page.js'
import { translator } from '../i18n/messages.js'
import type { ConnectOutcome } from './outcome.js'

/**
 * The result page: the outcome in plain words in the page's language, and machine-readable on <main>
 * (data-raven, data-reason: the same codes in every language).
 */
export function renderResultPage(outcome: ConnectOutcome, context: PageContext): string {
  return renderPage(resultPageOptions(outcome, context), context)
}

/**
 * The end of a popup flow: /assets/popup.js reads the result from <main> and posts it to the opener
 * at `targetOrigin` (the returnTo origin) only, then closes the window. Without an opener, or without a
 * returnTo to post to, the script does nothing and the page reads like the redirect-mode result page.
 */
export function renderPopupPage(outcome: ConnectOutcome, targetOrigin: string | undefined, context: PageContext): string {
  const options = resultPageOptions(outcome, context)
  return renderPage(
    {
      ...options,
      mainAttributes: { ...options.mainAttributes, ...(targetOrigin ? { 'data-target-origin': targetOrigin } : {}) },
      scripts: ['/assets/popup.js'],
    },
    context,
  )
}

function resultPageOptions(outcome: ConnectOutcome, context: PageContext): PageOptions {
  const t = translator(context.locale, context.settings.appName)
  const mainAttributes: Record<string, string> = { 'data-raven': outcome.raven }
  if (outcome.raven === 'error') mainAttributes['data-reason'] = outcome.reason
  const prefix = outcome.raven === 'error' ? (`reason.${outcome.reason}` as const) : outcome.raven
  return {
    heading: t(`${prefix}.heading`),
    paragraphs: [t(`${prefix}.body`)],
    nextStep: t(`${prefix}.next`),
    visual: visualOf(outcome),
    mainAttributes,
  }
}

function visualOf(outcome: ConnectOutcome): PageVisual {
  if (outcome.raven !== 'error') return outcome.raven
  if (outcome.reason === 'access_denied') return 'declined'
  return outcome.reason === 'expired' ? 'expired' : 'error'
}

/** A launch link that cannot be used (unknown, used, expired or malformed). */
export function renderLaunchErrorPage(kind: 'invalid_link' | 'missing_link', context: PageContext): string {
  return kind === 'missing_link'
    ? renderMessagePage('link.missing', { visual: 'error', reason: 'invalid_request' }, context)
    : renderMessagePage('link.expired', { visual: 'expired', reason: 'expired' }, context)
}

/**
 * The launch reached the service over plain http while PUBLIC_BASE_URL is https: no Secure cookie
 * could be set, so the flow would fail later. Nothing was spent; the grower can use the link again.
 */
export function renderMisconfiguredPage(context: PageContext): string {
  return renderMessagePage('misconfigured', { visual: 'error', reason: 'server_error' }, context)
}

/** The launch failed on our side after the one-time link was spent: say so, and how to get a new one. */
export function renderSpentLinkPage(context: PageContext): string {
  return renderMessagePage('link.spent', { visual: 'error', reason: 'server_error' }, context)
}
