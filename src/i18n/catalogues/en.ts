/*
 * English: the reference catalogue. Its keys are the key set every other language must have (the
 * type below makes a missing key a build error; test/page-language.test.ts checks it at run time too).
 * `{app}` is APP_NAME, or `app.fallback` when unset. Short and plain: a grower reads this on a phone.
 */
export const en = {
  'app.fallback': 'your app',
  'page.nextStep': 'What to do next',
  'page.logoAlt': 'App logo',

  'connected.heading': 'Raven is connected to {app}',
  'connected.body': 'Your Raven data can now reach {app}. Nothing else is needed.',
  'connected.next': 'Close this page and go back to {app}.',
  'pending.heading': 'Almost done',
  'pending.body': 'Raven said yes. We are still saving the connection; this usually takes less than a minute.',
  'pending.next': 'Close this page and go back to {app}. It will show Raven as connected soon.',

  'reason.access_denied.heading': 'Raven was not connected',
  'reason.access_denied.body': 'You chose not to allow access at Raven. Nothing was shared.',
  'reason.access_denied.next': 'Changed your mind? Go back to {app} and choose Connect Raven again.',
  'reason.raven_error.heading': 'Raven could not finish',
  'reason.raven_error.body': 'Raven had a problem while you were signing in. Nothing was changed.',
  'reason.raven_error.next': 'Go back to {app} and try again in a few minutes.',
  'reason.expired.heading': 'This attempt timed out',
  'reason.expired.body': 'Signing in took more than 15 minutes, or your browser did not keep our cookie.',
  'reason.expired.next': 'Go back to {app} and choose Connect Raven again.',
  'reason.invalid_request.heading': 'This link no longer works',
  'reason.invalid_request.body': 'This connection was already finished, or the link was changed or opened in another browser.',
  'reason.invalid_request.next': 'Go back to {app} and choose Connect Raven again.',
  'reason.token_exchange_failed.heading': 'Raven did not confirm the connection',
  'reason.token_exchange_failed.body': 'Raven refused to complete the connection. Nothing was saved.',
  'reason.token_exchange_failed.next': 'Go back to {app} and choose Connect Raven again.',
  'reason.no_refresh_token.heading': 'Raven did not allow ongoing access',
  'reason.no_refresh_token.body': 'Keeping your data in sync needs ongoing (offline) access, and Raven did not allow it.',
  'reason.no_refresh_token.next': 'Go back to {app}, choose Connect Raven again and allow all the access asked for.',
  'reason.leaf_rejected.heading': 'The connection could not be saved',
  'reason.leaf_rejected.body': 'Raven connected, but the connection could not be stored.',
  'reason.leaf_rejected.next': 'Contact support for {app} and give them the code leaf_rejected.',
  'reason.server_error.heading': 'Something went wrong on our side',
  'reason.server_error.body': 'The connection could not be completed. Nothing was changed.',
  'reason.server_error.next': 'Go back to {app} and try again in a few minutes.',

  'link.expired.heading': 'This link has expired or was already used',
  'link.expired.body': 'Connect links work once and only for a few minutes, to keep your account safe.',
  'link.expired.next': 'Go back to {app} and choose Connect Raven again to get a fresh link.',
  'link.missing.heading': 'This link is incomplete',
  'link.missing.body': 'Part of the link is missing. It may have been cut off when it was copied.',
  'link.missing.next': 'Go back to {app} and choose Connect Raven again to get a fresh link.',
  'link.spent.heading': 'Something went wrong on our side, and this link can no longer be used',
  'link.spent.body': 'Connect links work only once, so this one is spent.',
  'link.spent.next': 'Go back to {app} and choose Connect Raven again to get a fresh link.',

  'unavailable.heading': 'Connecting Raven is not available right now',
  'unavailable.body': 'Nothing was changed.',
  'unavailable.next': 'Go back to {app} and try again in a minute.',

  'misconfigured.heading': 'Connecting Raven is not set up correctly',
  'misconfigured.body': 'The connection service is misconfigured, so it cannot start the connection safely. Your link was not used.',
  'misconfigured.next': 'Tell support for {app}, then try again later with the same link.',
  'error.notFound.heading': 'Page not found',
  'error.badRequest.heading': 'This request could not be handled',
  'error.server.heading': 'Something went wrong on our side',
  'error.body': 'Nothing was changed.',
  'error.next': 'Go back to {app} and try again.',
  'error.notConnected.body': 'Raven was not connected. Nothing was changed.',
  'error.wait.next': 'Wait a minute, then go back to {app} and choose Connect Raven again.',
} as const

export type MessageKey = keyof typeof en
/** A catalogue: every key of the English one, each a translated string. */
export type Catalogue = Record<MessageKey, string>
