// End of a popup-mode flow: tell the opener the result, at its exact origin only, then close.
// Kept outside the page so the Content-Security-Policy needs no inline script.
//
// The target origin is the connect session's returnTo origin, never '*': a page that navigated the
// opener elsewhere (or an attacker's page that opened this flow) receives nothing. Without an opener
// (the link was opened in a tab) or without a returnTo, nothing is sent and the page stays as it is:
// it already says in words what happened and what to do next.
const main = document.querySelector('main')
const targetOrigin = main ? main.dataset.targetOrigin : undefined
const raven = main ? main.dataset.raven : undefined

if (main && targetOrigin && raven && window.opener && !window.opener.closed) {
  const message = { type: 'raven-connect', raven }
  if (main.dataset.reason) message.reason = main.dataset.reason
  try {
    window.opener.postMessage(message, targetOrigin)
    window.close()
  } catch {
    // A malformed origin throws a SyntaxError: keep the readable page rather than fail silently.
  }
}
