import { RE2JS } from 're2js'

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

/*
 * The text patterns run on RE2 (re2js: RE2's linear-time automaton in plain JavaScript), not on V8's
 * backtracking engine: a Leaf body is attacker-influenced (a grower's Raven error text lands in it), and
 * with backtracking a run like `eyJeyJeyJ…` or `\\\\…` costs quadratic time per pattern. RE2 has no
 * look-around or back-references, so the few checks that needed them are made in the replacers.
 */

// A JWT anywhere (id tokens, access tokens): three base64url segments starting with `{"`.
const JWT = RE2JS.compile('eyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]*)?')
// Authorization schemes followed by their credentials. Bearer takes any token (but not a
// WWW-Authenticate `Bearer realm="…"`, told apart in the replacer); other schemes need a long,
// token-like value so English ("token was", "basic setup") survives.
const AUTH_SCHEME = RE2JS.compile(
  '\\b(?:Bearer|DPoP)\\s+([A-Za-z0-9\\-._~+/]+=*)(")?|\\b(?:Basic|Token|Digest|Negotiate|NTLM|MAC)\\s+[A-Za-z0-9\\-._~+/]{16,}=*',
  RE2JS.CASE_INSENSITIVE,
)
// "key": "value" in text that is not parseable JSON (truncated, or escaped inside another string, so
// the quotes may carry backslashes). The value ends at its quote, or at the line's or text's end when
// the body was cut off inside it: a truncated secret is still a secret.
const JSON_PAIR = RE2JS.compile('(\\\\*")([A-Za-z0-9_.-]{1,64})\\\\*"(\\s*:\\s*)\\\\*"[^"\\r\\n]*(")?')
// key=value in query strings, form bodies, `{Authorization=[Bearer …]}` map dumps and cookies.
const KEY_VALUE = RE2JS.compile('(^|[?&;,{(\\s#])([A-Za-z0-9_.-]{1,64})=(\\[[^\\]\\r\\n]*\\]|[^&;,}\\s#"\')]*)')
// "Name: value" header lines.
const HEADER_LINE = RE2JS.compile('^([ \\t]*)([A-Za-z0-9_-]{1,64})([ \\t]*:[ \\t]*)(\\S[^\\r\\n]*)', RE2JS.MULTILINE)

/** The compiled text patterns, for the test that proves them linear on adversarial input. */
export const TEXT_PATTERNS = { JWT, AUTH_SCHEME, JSON_PAIR, KEY_VALUE, HEADER_LINE }

type Replacer = (match: string, ...groups: Array<string | null | undefined | number>) => string
const replaceAll = (pattern: RE2JS, text: string, replacer: Replacer): string => pattern.matcher(text).replaceAll(replacer)

/** Redacts secrets in free text: embedded JSON, header lines, query and form parameters, tokens. */
export function redactText(text: string): string {
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(trimmed)))
    } catch {
      // Not JSON after all (or cut off): fall through to the text patterns.
    }
  }
  let out = replaceAll(JWT, text, () => REDACTED)
  out = replaceAll(AUTH_SCHEME, out, (match, token, quote) =>
    // `Bearer realm="api"` is a challenge's parameter, not a credential.
    quote === '"' && typeof token === 'string' && /^[A-Za-z]+=$/.test(token) ? match : REDACTED + (quote === '"' ? '"' : ''),
  )
  out = replaceAll(JSON_PAIR, out, (match, quote, key, colon, closing) =>
    isSecretKey(String(key)) ? `${quote}${key}${quote}${colon}${quote}${REDACTED}${closing ? quote : ''}` : match,
  )
  out = replaceAll(HEADER_LINE, out, (match, indent, name, colon) =>
    isSecretKey(String(name)) ? `${indent}${name}${colon}${REDACTED}` : match,
  )
  return replaceAll(KEY_VALUE, out, (match, lead, key, value) =>
    isSecretKey(String(key)) && value ? `${lead ?? ''}${key}=${REDACTED}` : match,
  )
}

/**
 * An event with every secret in `body` (JSON, form-encoded or plain text) and `headers` (a JSON
 * object, header lines or a map dump) replaced by {@link REDACTED}.
 */
export function redactEvent(event: LeafEvent): LeafEvent {
  return { ...event, body: redactText(event.body), headers: redactText(event.headers) }
}
