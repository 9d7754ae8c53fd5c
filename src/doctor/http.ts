/** The doctor's own HTTP requests: never follow a redirect (a secret must not travel on), honour the check's time limit. */

const USER_AGENT = 'raven-connect (doctor)'

export interface Reply {
  status: number
  headers: Headers
  text: string
}

export async function request(url: string, init: RequestInit & { signal: AbortSignal }): Promise<Reply> {
  const headers = new Headers(init.headers)
  headers.set('user-agent', USER_AGENT)
  const res = await fetch(url, { ...init, headers, redirect: 'manual' })
  // Bounded by the check's signal like the request itself; large bodies are not expected here.
  const text = await res.text()
  return { status: res.status, headers: res.headers, text }
}

/** JSON of a reply, or undefined when it is not JSON. */
export function jsonOf(reply: Reply): unknown {
  try {
    return JSON.parse(reply.text)
  } catch {
    return undefined
  }
}

/**
 * Why a request got no answer, in an operator's words: refused, unknown host, a certificate problem
 * (TLS), a reset. Never the request itself.
 */
export function describeNetworkError(err: unknown): string {
  const codes = new Set<string>()
  let innermost = err
  for (let current: unknown = err, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    innermost = current
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') codes.add(code)
  }
  const has = (...names: string[]) => names.some((name) => codes.has(name))
  if (has('ECONNREFUSED')) return 'connection refused (nothing listens there)'
  if (has('ENOTFOUND', 'EAI_AGAIN')) return 'unknown host name (DNS)'
  if (has('ECONNRESET', 'UND_ERR_SOCKET')) return 'connection reset'
  if ([...codes].some((code) => /CERT|SELF_SIGNED|TLS|SSL|ERR_TLS/.test(code))) {
    return `TLS failed (${[...codes].find((code) => /CERT|SELF_SIGNED|TLS|SSL/.test(code))}): the certificate is not trusted or does not match the host`
  }
  if ((err as { name?: string }).name === 'AbortError' || (err as { name?: string }).name === 'TimeoutError') return 'no answer in time'
  // fetch's own refusals (`bad port`, …) carry no code: the innermost message says what happened.
  return codes.size > 0 ? [...codes].join(', ') : ((innermost as Error).message ?? 'network error')
}
