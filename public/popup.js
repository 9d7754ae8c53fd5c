// End of a popup-mode flow: tell the opener the result, at its exact origin only, then close.
// Kept outside the page so the Content-Security-Policy needs no inline script.
const main = document.querySelector('main')
const targetOrigin = main && main.dataset.targetOrigin
const message = { type: 'raven-connect', raven: main && main.dataset.raven }
if (main && main.dataset.reason) message.reason = main.dataset.reason
if (window.opener && targetOrigin) {
  window.opener.postMessage(message, targetOrigin)
  window.close()
}
