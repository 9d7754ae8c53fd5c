import { isIP } from 'node:net'

/**
 * True for hosts that never leave this machine: `localhost`, 127.0.0.0/8 and [::1]. Only these may be
 * reached over plain http, so a local sandbox works and a production typo cannot send a client secret
 * or a refresh token across a network in clear text.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1'
  return false
}

/**
 * Parses an upstream URL and returns an error sentence, or the URL when it is https or loopback http.
 * The sentence shows the origin and path only: a query (a webhook receiver's token) is never echoed.
 */
export function checkUpstreamUrl(value: string): URL | string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'not an absolute URL'
  }
  const shown = `${url.origin}${url.pathname === '/' && !value.endsWith('/') ? '' : url.pathname}`
  if (url.username || url.password) return 'must not carry credentials in the URL'
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname)
      ? url
      : `http:// is only allowed for loopback hosts (got ${shown})`
  }
  return `must be an https:// URL (got ${shown})`
}
