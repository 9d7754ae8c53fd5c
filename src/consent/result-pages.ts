import { renderPage, type PageOptions } from '../http/html-page.js'
import type { ConnectOutcome, ConnectReason } from './outcome.js'

const ERROR_TEXT: Record<ConnectReason, { heading: string; text: string }> = {
  access_denied: {
    heading: 'Raven was not connected',
    text: 'You chose not to allow access at Raven. Nothing was shared. If that was a mistake, go back to the app and choose Connect Raven again.',
  },
  raven_error: {
    heading: 'Raven could not complete the connection',
    text: 'Raven reported a problem while you were signing in. Go back to the app and try again in a few minutes.',
  },
  expired: {
    heading: 'This connection attempt expired',
    text: 'The sign-in took longer than 15 minutes, or your browser did not keep our cookie. Go back to the app and choose Connect Raven again.',
  },
  invalid_request: {
    heading: 'This link is no longer valid',
    text: 'This connection was already finished, or the link was changed or opened in another browser. Go back to the app and choose Connect Raven again.',
  },
  token_exchange_failed: {
    heading: 'Raven did not confirm the connection',
    text: 'Raven refused to complete the connection. Go back to the app and choose Connect Raven again.',
  },
  no_refresh_token: {
    heading: 'Raven did not grant ongoing access',
    text: 'Raven did not allow offline access, which is needed to keep your data in sync. Go back to the app, choose Connect Raven again and allow all requested access.',
  },
  leaf_rejected: {
    heading: 'The connection could not be saved',
    text: 'Raven connected, but the data platform refused to store the connection. Contact the app’s support and mention “leaf_rejected”.',
  },
  server_error: {
    heading: 'Something went wrong on our side',
    text: 'The connection could not be completed. Go back to the app and try again in a few minutes.',
  },
}

/** The result page: the outcome in plain words, and machine-readable on <main>. */
export function renderResultPage(outcome: ConnectOutcome): string {
  return renderPage(resultPageOptions(outcome))
}

/**
 * The end of a popup flow: /assets/popup.js reads the result from <main> and posts it to the opener
 * at `targetOrigin` (the returnTo origin) only, then closes the window. Without an opener, or without a
 * returnTo to post to, the script does nothing and the page reads like the redirect-mode result page.
 */
export function renderPopupPage(outcome: ConnectOutcome, targetOrigin: string | undefined): string {
  const options = resultPageOptions(outcome)
  return renderPage({
    ...options,
    mainAttributes: { ...options.mainAttributes, ...(targetOrigin ? { 'data-target-origin': targetOrigin } : {}) },
    scripts: ['/assets/popup.js'],
  })
}

function resultPageOptions(outcome: ConnectOutcome): PageOptions {
  const mainAttributes: Record<string, string> = { 'data-raven': outcome.raven }
  if (outcome.raven === 'error') mainAttributes['data-reason'] = outcome.reason
  if (outcome.raven === 'connected') {
    return {
      title: 'Raven connected',
      heading: 'Raven is connected',
      paragraphs: ['Your Raven account is now connected. You can close this page and return to the app.'],
      mainAttributes,
      tone: 'success',
    }
  }
  if (outcome.raven === 'pending') {
    return {
      title: 'Raven connection in progress',
      heading: 'Almost done',
      paragraphs: [
        'Raven accepted the connection and we are saving it. This usually finishes within a minute; the app will show it as connected.',
        'You can close this page and return to the app.',
      ],
      mainAttributes,
      tone: 'info',
    }
  }
  const text = ERROR_TEXT[outcome.reason]
  return { title: text.heading, heading: text.heading, paragraphs: [text.text], mainAttributes, tone: 'error' }
}

/** A launch link that cannot be used (unknown, used, expired or malformed). */
export function renderLaunchErrorPage(kind: 'invalid_link' | 'missing_link'): string {
  return renderPage({
    title: 'Link not valid',
    heading: kind === 'missing_link' ? 'This link is incomplete' : 'This link has expired or was already used',
    paragraphs: [
      'Connect links work once and only for a few minutes, to keep your account safe.',
      'Go back to the app and choose Connect Raven again to get a fresh link.',
    ],
    mainAttributes: { 'data-raven': 'error', 'data-reason': kind === 'missing_link' ? 'invalid_request' : 'expired' },
    tone: 'error',
  })
}

/** The launch failed on our side after the one-time link was spent: say so, and how to get a new one. */
export function renderSpentLinkPage(): string {
  return renderPage({
    title: 'Something went wrong',
    heading: 'Something went wrong on our side, and this link can no longer be used',
    paragraphs: ['Connect links work only once. Go back to the app and choose Connect Raven again to get a fresh link.'],
    mainAttributes: { 'data-raven': 'error', 'data-reason': 'server_error' },
    tone: 'error',
  })
}
