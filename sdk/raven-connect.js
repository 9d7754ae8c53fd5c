// raven-connect browser SDK: a dependency-free ES module a host page imports from
// {raven-connect}/sdk/raven-connect.js. Served with CORS for RETURN_TO_ORIGINS.
//
//   import { connectRaven } from 'https://connect.example.com/sdk/raven-connect.js'
//   button.addEventListener('click', async () => {
//     try {
//       const result = await connectRaven(fetchConnectUrlFromYourBackend())
//       // result: { type: 'raven-connect', raven: 'connected' | 'pending' | 'error', reason?: string }
//     } catch (err) {
//       // err.code: 'popup_blocked' | 'popup_closed'
//     }
//   })
//
// Your backend creates the connect session with "mode": "popup" and a returnTo on your page's origin:
// the popup posts the result to that origin only.

const POPUP_NAME = 'raven-connect'
const WIDTH = 520
const HEIGHT = 720
/** How often to look whether the grower closed the popup (no event exists for that). */
const CLOSED_POLL_MS = 300
/** The result message and the window closing race; wait this long after "closed" before giving up. */
const CLOSED_GRACE_MS = 500
const RESULTS = ['connected', 'pending', 'error']

/**
 * Opens the Connect Raven popup and resolves with its result message. Call it from a click handler:
 * browsers allow a popup only during the click. `connectUrl` may be the URL, a Promise of it, or a
 * function returning either (called once the popup is open): the popup opens at once and follows the
 * URL when it is known, so a call to your backend first does not get the popup blocked.
 *
 * Rejects with an Error whose `code` is `popup_blocked` (the browser refused to open it) or
 * `popup_closed` (the grower closed it before the flow finished); an error from getting the URL is
 * passed through after the popup is closed.
 */
export function connectRaven(connectUrl) {
  const immediate = typeof connectUrl === 'string' || connectUrl instanceof URL ? String(connectUrl) : undefined
  const popup = window.open(immediate ?? 'about:blank', POPUP_NAME, popupFeatures())
  if (!popup || popup.closed) return Promise.reject(sdkError('popup_blocked', 'The browser blocked the Raven popup. Allow popups for this site and try again.'))
  popup.focus()
  // A function is called only once the popup is open, so a blocked popup costs no connect session.
  let pending
  try {
    pending = typeof connectUrl === 'function' ? connectUrl() : connectUrl
  } catch (err) {
    pending = Promise.reject(err)
  }

  return new Promise((resolve, reject) => {
    let expectedOrigin
    let closedSince
    const stop = () => {
      window.removeEventListener('message', onMessage)
      clearInterval(timer)
    }
    const onMessage = (event) => {
      if (event.source !== popup || event.origin !== expectedOrigin) return
      const data = event.data
      if (!data || data.type !== 'raven-connect' || !RESULTS.includes(data.raven)) return
      stop()
      const result = { type: 'raven-connect', raven: data.raven }
      if (data.raven === 'error' && typeof data.reason === 'string') result.reason = data.reason
      resolve(result)
    }
    const timer = setInterval(() => {
      if (!popup.closed) return
      closedSince ??= Date.now()
      if (Date.now() - closedSince < CLOSED_GRACE_MS) return
      stop()
      reject(sdkError('popup_closed', 'The Raven window was closed before the connection finished.'))
    }, CLOSED_POLL_MS)
    window.addEventListener('message', onMessage)

    Promise.resolve(pending)
      .then((url) => {
        const target = new URL(String(url), window.location.href)
        expectedOrigin = target.origin
        if (immediate === undefined && !popup.closed) popup.location.href = target.href
      })
      .catch((err) => {
        stop()
        popup.close()
        reject(err)
      })
  })
}

export default connectRaven

function sdkError(code, message) {
  const error = new Error(message)
  error.name = 'RavenConnectError'
  error.code = code
  return error
}

/** A popup centred over the current window, sized for the consent pages. */
function popupFeatures() {
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - WIDTH) / 2))
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - HEIGHT) / 2))
  return `popup=yes,width=${WIDTH},height=${HEIGHT},left=${left},top=${top}`
}
