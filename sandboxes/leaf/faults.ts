/** One scripted answer, given instead of the real one to the next matching request. */
export interface ScriptedAnswer {
  status: number
  /** Sent as JSON; omitted for an empty body. */
  body?: unknown
  /** e.g. `{ 'Retry-After': '1' }` */
  headers?: Record<string, string>
  /** Wait this long before answering (longer than the client's timeout = a timeout). */
  delayMs?: number
  /** Send the body in chunks without a Content-Length, as a streaming server would. */
  chunked?: boolean
}

interface Script {
  method: string
  pattern: RegExp
  answers: ScriptedAnswer[]
}

export const API_BASE = '/services/usermanagement/api'

/**
 * Per-test fault injection. Patterns are matched against the full path and against the path under
 * `/services/usermanagement/api`; `*` matches one path segment, `**` anything, or pass a RegExp.
 */
export class LeafFaults {
  private scripts: Script[] = []
  private storeThenTimeouts: number[] = []
  private unavailableUntil = 0
  private unavailableRetryAfter: string | undefined

  constructor(private readonly onExpireTokens: () => void) {}

  /** Queues answers for `method` + path pattern, used one per matching request, in order. */
  script(method: string, path: string | RegExp, ...answers: ScriptedAnswer[]): void {
    this.scripts.push({ method: method.toUpperCase(), pattern: toPattern(path), answers: [...answers] })
  }

  /**
   * The next `times` `POST …/raven-credentials` store the credential, then answer only after
   * `delayMs` (default 60 s, longer than any client timeout): the ambiguous "stored, but the caller
   * saw a timeout" case. Pending answers are dropped when the sandbox closes.
   */
  storeThenTimeout(options: { delayMs?: number; times?: number } = {}): void {
    const times = options.times ?? 1
    for (let i = 0; i < times; i += 1) this.storeThenTimeouts.push(options.delayMs ?? 60_000)
  }

  /** Invalidates every token issued so far: the next call with one of them gets 401. */
  expireTokensNow(): void {
    this.onExpireTokens()
  }

  /** Every request gets 503 (with `Retry-After` when given) for `durationMs`. */
  unavailable(durationMs: number, options: { retryAfterSeconds?: number } = {}): void {
    this.unavailableUntil = Date.now() + durationMs
    this.unavailableRetryAfter = options.retryAfterSeconds === undefined ? undefined : String(options.retryAfterSeconds)
  }

  reset(): void {
    this.scripts = []
    this.storeThenTimeouts = []
    this.unavailableUntil = 0
    this.unavailableRetryAfter = undefined
  }

  /** @internal the answer for an unavailable Leaf, if it is. */
  unavailableAnswer(): ScriptedAnswer | undefined {
    if (Date.now() >= this.unavailableUntil) return undefined
    const headers = this.unavailableRetryAfter === undefined ? undefined : { 'Retry-After': this.unavailableRetryAfter }
    return { status: 503, body: { title: 'Service Unavailable', status: 503 }, ...(headers && { headers }) }
  }

  /** @internal takes the next scripted answer for this request, if any. */
  takeScripted(method: string, path: string): ScriptedAnswer | undefined {
    const relative = path.startsWith(API_BASE) ? path.slice(API_BASE.length) : undefined
    for (const script of this.scripts) {
      if (script.method !== method.toUpperCase() || script.answers.length === 0) continue
      if (script.pattern.test(path) || (relative !== undefined && script.pattern.test(relative))) {
        return script.answers.shift()
      }
    }
    return undefined
  }

  /** @internal the delay for a store-then-timeout create, if one is queued. */
  takeStoreThenTimeout(): number | undefined {
    return this.storeThenTimeouts.shift()
  }
}

function toPattern(path: string | RegExp): RegExp {
  if (path instanceof RegExp) return path
  const escaped = path
    .split('**')
    .map((part) => part.split('*').map((piece) => piece.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]+'))
    .join('.*')
  return new RegExp(`^${escaped}$`)
}
