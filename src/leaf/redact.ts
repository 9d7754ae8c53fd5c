import type { LeafEvent } from './schemas.js'

/*
 * Leaf's credential events are logs of Leaf's own calls to Raven: token-endpoint requests and
 * answers, API calls with their headers. Their `body` and `headers` are free-form strings that
 * routinely hold the grower's refresh and access tokens, our client secret (in a Basic header or a
 * form body) and authorization codes. Everything here is pure and errs on the side of redacting too
 * much: an over-redacted troubleshooting line costs little, a leaked refresh token costs a grower's
 * account.
 */

export const REDACTED = '[REDACTED]'

/** Substrings of a normalized key (lowercase, alphanumerics only) that mark its value as secret. */
const SECRET_KEY_PARTS = [
  'token',
  'secret',
  'password',
  'passwd',
  'authorization',
  'cookie',
  'apikey',
  'assertion',
  'credential',
  'signature',
  'sessionid',
]
/** Keys that are secret only as a whole word (`code` yes, `statusCode` no). */
const SECRET_KEYS_EXACT = new Set(['code', 'codeverifier', 'pwd', 'pass', 'auth', 'jwt', 'key', 'otp'])
/** Keys that contain a secret-looking part but carry none, kept so events stay readable. */
const KEPT_KEYS = new Set(['tokentype', 'tokenmetadata', 'tokenendpoint', 'tokenurl', 'tokenendpointauthmethod'])

export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (KEPT_KEYS.has(normalized)) return false
  if (SECRET_KEYS_EXACT.has(normalized)) return true
  return SECRET_KEY_PARTS.some((part) => normalized.includes(part))
}

/** Redacts a parsed JSON value: secret keys lose their value, every other string is scanned as text. */
export function redactJson(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value)
  if (Array.isArray(value)) return value.map(redactJson)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, inner] of Object.entries(value)) {
      out[key] = isSecretKey(key) && inner !== null && inner !== '' ? REDACTED : redactJson(inner)
    }
    return out
  }
  return value
}

// A JWT anywhere (id tokens, access tokens): three base64url segments starting with `{"`.
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?/g
// Authorization schemes followed by their credentials. Bearer takes any token (but not a
// WWW-Authenticate `Bearer realm="…"`); other schemes need a long, token-like value so English
// ("token was", "basic setup") survives.
const AUTH_SCHEME =
  /\b(?:Bearer|DPoP)\s+(?![A-Za-z]+=")[A-Za-z0-9\-._~+/]+=*|\b(?:Basic|Token|Digest|Negotiate|NTLM|MAC)\s+[A-Za-z0-9\-._~+/]{16,}=*/gi
// "key": "value" in text that is not parseable JSON (truncated, or escaped inside another string).
const JSON_PAIR = /(\\*")([A-Za-z0-9_.-]{1,64})\1(\s*:\s*)\1((?:(?!\1)[^\r\n])*)\1/g
// key=value in query strings, form bodies, `{Authorization=[Bearer …]}` map dumps and cookies.
const KEY_VALUE = /(^|[?&;,{(\s#])([A-Za-z0-9_.-]{1,64})=(\[[^\]\r\n]*\]|[^&;,}\s#"')]*)/g
// "Name: value" header lines.
const HEADER_LINE = /^([ \t]*)([A-Za-z0-9_-]{1,64})([ \t]*:[ \t]*)(\S.*?)[ \t]*$/gm

/** Redacts secrets in free text: embedded JSON, header lines, query and form parameters, tokens. */
export function redactText(text: string): string {
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(trimmed)))
    } catch {
      // Not JSON after all: fall through to the text patterns.
    }
  }
  return text
    .replace(JWT, REDACTED)
    .replace(AUTH_SCHEME, REDACTED)
    .replace(JSON_PAIR, (match, quote: string, key: string, colon: string) =>
      isSecretKey(key) ? `${quote}${key}${quote}${colon}${quote}${REDACTED}${quote}` : match,
    )
    .replace(HEADER_LINE, (match, indent: string, name: string, colon: string) =>
      isSecretKey(name) ? `${indent}${name}${colon}${REDACTED}` : match,
    )
    .replace(KEY_VALUE, (match, lead: string, key: string, value: string) =>
      isSecretKey(key) && value !== '' ? `${lead}${key}=${REDACTED}` : match,
    )
}

/**
 * An event with every secret in `body` (JSON, form-encoded or plain text) and `headers` (a JSON
 * object, header lines or a map dump) replaced by {@link REDACTED}.
 */
export function redactEvent(event: LeafEvent): LeafEvent {
  return { ...event, body: redactText(event.body), headers: redactText(event.headers) }
}
