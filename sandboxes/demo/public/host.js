// The demo host page's only script: the "Connect Raven in a popup" button, using the browser SDK
// that raven-connect serves. Loaded as a module from /assets, so the page needs no inline script.
const button = document.getElementById('connect-popup')
const note = document.getElementById('popup-note')

function say(text) {
  if (!note) return
  note.textContent = text
  note.hidden = false
}

// The popup must open during the click, so the SDK is loaded beforehand and the connect session is
// created once the popup is open (connectRaven accepts a function returning a Promise of the URL).
async function newConnectUrl() {
  const res = await fetch('/connect-session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  const body = await res.json().catch(() => ({}))
  if (!res.ok || typeof body.connectUrl !== 'string') throw new Error(body.error || `the demo backend answered ${res.status}`)
  return body.connectUrl
}

function showResult(query) {
  window.location.assign(`/?${new URLSearchParams(query)}`)
}

if (button) {
  import(button.dataset.sdk).then(
    ({ connectRaven }) => {
      button.disabled = false
      button.addEventListener('click', () => {
        say('Finish in the Raven window…')
        connectRaven(newConnectUrl).then(
          (result) => showResult({ raven: result.raven, ...(result.reason ? { reason: result.reason } : {}), via: 'popup' }),
          (err) => (err && err.code ? showResult({ popup: err.code }) : say(`The popup could not start: ${err && err.message}`)),
        )
      })
    },
    () => say('The browser SDK could not be loaded from raven-connect; use Connect Raven instead.'),
  )
}
