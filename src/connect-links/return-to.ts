import { problem } from '../http/problem.js'

/**
 * Checks a returnTo against RETURN_TO_ORIGINS by exact normalized origin (scheme, lowercase host,
 * port). Rejected before parsing: backslashes (WHATWG URL turns them into slashes, `https://app\@evil`
 * tricks), whitespace and control characters (CR/LF header injection), and userinfo
 * (`https://app.example.com@evil.example`). Relative and scheme-relative values (`//evil`) fail to parse
 * as absolute URLs; `javascript:` and other schemes fail the origin comparison.
 */
export function checkReturnTo(value: unknown, allowedOrigins: string[]): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) {
    throw problem.badRequest('invalid_return_to', 'returnTo must be an absolute URL of at most 2048 characters.')
  }
  if (/[\\\s\u0000-\u001f\u007f]/.test(value)) {
    throw problem.badRequest('invalid_return_to', 'returnTo must not contain backslashes, spaces or control characters.')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw problem.badRequest('invalid_return_to', 'returnTo must be an absolute URL.')
  }
  if (url.username || url.password) {
    throw problem.badRequest('invalid_return_to', 'returnTo must not contain user information.')
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !allowedOrigins.includes(url.origin)) {
    throw problem.badRequest('return_to_not_allowed', 'returnTo is not on an origin listed in RETURN_TO_ORIGINS.')
  }
  return url.href
}
