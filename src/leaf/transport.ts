import { performance } from 'node:perf_hooks'

import { fullJitterMs, parseRetryAfterMs, sleep, type RetryPolicy } from '../infra/async.js'
import { LeafError } from './errors.js'
import { isTimeout, wasNeverSent } from './network-errors.js'
import { authenticateResponseSchema } from './schemas.js'
import { LeafTokenSource } from './token.js'
import type { z } from 'zod'
import type { LeafAuth } from '../config/load-config.js'
import type { Logger } from '../infra/logger.js'
import type { Metrics } from '../infra/metrics.js'

/**
 * Retries of one call to Leaf: full-jitter waits within `baseMs`/`capMs`, Leaf's Retry-After
 * honoured instead when it sends one (capped at `capMs`: a grower's browser may be waiting).
 */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 200, capMs: 2000 }

export interface LeafCall {
  /** Metric and log label, e.g. `get_user`. */
  operation: string
  method: 'GET' | 'POST' | 'DELETE'
  /** Path under `/services/usermanagement/api` (or `/services/alerts/api/alerts` for `api: 'alerts'`), encoded. */
  path: string
  /** Which of Leaf's services: user management (default) or Alerts. */
  api?: 'usermanagement' | 'alerts'
  query?: Record<string, string>
  body?: unknown
  /** Statuses handed back to the caller instead of thrown (e.g. 404 for a lookup). */
  pass?: readonly number[]
  /**
   * Whether a failure that Leaf may have processed (timeout or reset after sending, 5xx) is retried
   * here. False for creates: resending a POST that may have landed could create a second user or
   * answer a conflict, so their callers look before they create again.
   */
  retryAmbiguous?: boolean
  /**
   * The caller's own limit (a go-live check's time limit): aborts the attempt in flight and stops
   * the retries. The client's per-attempt timeout still applies.
   */
  signal?: AbortSignal
}

export interface LeafReply {
  status: number
  headers: Headers
  text: string
}

export interface LeafTransportOptions {
  apiUrl: string
  auth: LeafAuth
  timeoutMs: number
  retry: RetryPolicy
  logger: Logger
  metrics?: Metrics | undefined
  fetch: typeof fetch
}

const USER_AGENT = 'raven-connect (leaf-client)'

/** Leaf's largest legitimate answer (a page of users, a credential's events) is far below this. */
export const MAX_LEAF_BODY_BYTES = 1024 * 1024

/**
 * Every HTTP exchange with Leaf: bearer token, per-call timeout, retries, error mapping, metrics.
 * Bodies are read (so keep-alive connections are reused) but never logged or put in an error.
 */
export class LeafTransport {
  readonly tokens: LeafTokenSource
  /** The retry policy of every call; also paces the look-before-create rounds of users and credentials. */
  readonly retry: RetryPolicy
  readonly logger: Logger
  private readonly baseUrl: string
  private readonly alertsUrl: string
  private readonly authUrl: string

  constructor(private readonly options: LeafTransportOptions) {
    this.retry = options.retry
    this.logger = options.logger
    const origin = options.apiUrl.replace(/\/+$/, '')
    this.baseUrl = `${origin}/services/usermanagement/api`
    this.alertsUrl = `${origin}/services/alerts/api/alerts`
    this.authUrl = `${origin}/api/authenticate`
    this.tokens = new LeafTokenSource(options.auth, (login) => this.authenticate(login))
  }

  /** Sends an authenticated call; on 401 with a login, authenticates again and retries once. */
  async call(call: LeafCall): Promise<LeafReply> {
    const url = new URL((call.api === 'alerts' ? this.alertsUrl : this.baseUrl) + call.path)
    for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value)
    let renewed = false
    for (;;) {
      const token = await this.tokens.token()
      const reply = await this.withRetries(call, url.toString(), token)
      if (reply.status === 401 && this.tokens.renewable && !renewed) {
        // Expired or revoked early: Leaf has no refresh flow, so log in again, once per failed call.
        renewed = true
        this.tokens.invalidate(token)
        this.logger.info({ operation: call.operation }, 'leaf answered 401, authenticating again')
        continue
      }
      if (reply.status >= 200 && reply.status < 300) return reply
      if (call.pass?.includes(reply.status)) return reply
      throw this.finalError(call, reply.status, parseRetryAfterMs(reply.headers.get('retry-after')))
    }
  }

  parse<T extends z.ZodType>(schema: T, reply: LeafReply, operation: string): z.output<T> {
    let json: unknown
    try {
      json = JSON.parse(reply.text)
    } catch {
      throw new LeafError('invalid_response', `leaf ${operation}: answer is not JSON (status ${reply.status})`, {
        operation,
        status: reply.status,
      })
    }
    let result: z.ZodSafeParseResult<z.output<T>>
    try {
      result = schema.safeParse(json) as z.ZodSafeParseResult<z.output<T>>
    } catch {
      // A body nested deeper than the stack (RangeError in a transform): not an answer we can use.
      throw new LeafError('invalid_response', `leaf ${operation}: answer too deeply nested (status ${reply.status})`, { operation, status: reply.status })
    }
    if (!result.success) {
      // Only the paths of the failing fields: values could be secrets.
      const where = result.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ')
      throw new LeafError('invalid_response', `leaf ${operation}: unexpected answer shape at ${where}`, {
        operation,
        status: reply.status,
      })
    }
    return result.data
  }

  private async authenticate(login: { username: string; password: string }): Promise<string> {
    const call: LeafCall = { operation: 'authenticate', method: 'POST', path: '', retryAmbiguous: true }
    const body = { username: login.username, password: login.password, rememberMe: 'true' }
    const reply = await this.withRetries({ ...call, body }, this.authUrl, undefined)
    if (reply.status === 401 || reply.status === 403 || reply.status === 400) {
      this.logger.warn({ operation: 'authenticate', status: reply.status }, 'leaf refused the login')
      throw new LeafError('unauthorized', `leaf authenticate: login refused (status ${reply.status})`, {
        operation: 'authenticate',
        status: reply.status,
      })
    }
    if (reply.status < 200 || reply.status >= 300) throw this.finalError(call, reply.status)
    return this.parse(authenticateResponseSchema, reply, 'authenticate').id_token
  }

  /** One call with timeouts and retries; returns the final reply, whatever its status, or throws. */
  private async withRetries(call: LeafCall, url: string, token: string | undefined): Promise<LeafReply> {
    for (let attempt = 1; ; attempt += 1) {
      let reply: LeafReply
      try {
        reply = await this.exchange(call, url, token)
      } catch (err) {
        const failure = this.transportError(call, err)
        if (!this.mayRetry(call, failure, attempt)) throw failure
        await this.pause(call, attempt, failure, undefined)
        continue
      }
      if (reply.status !== 429 && reply.status < 500) return reply
      const failure = this.statusError(call, reply.status)
      if (!this.mayRetry(call, failure, attempt)) return reply
      await this.pause(call, attempt, failure, parseRetryAfterMs(reply.headers.get('retry-after')))
    }
  }

  private async exchange(call: LeafCall, url: string, token: string | undefined): Promise<LeafReply> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': USER_AGENT }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    const timeout = AbortSignal.timeout(this.options.timeoutMs)
    const started = performance.now()
    let outcome = 'network_error'
    try {
      // One signal for the request and the body read: a stalled body is a timeout too.
      const res = await this.options.fetch(url, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal === undefined ? timeout : AbortSignal.any([timeout, call.signal]),
        // fetch follows redirects by default, and a 307/308 re-sends the body (client secret, refresh
        // token, Leaf password) to the Location: never follow; a 3xx is an answer we refuse.
        redirect: 'manual',
      })
      const text = await readCapped(res, call.operation)
      outcome = outcomeOf(res.status)
      return { status: res.status, headers: res.headers, text }
    } catch (err) {
      if (isTimeout(err)) outcome = 'timeout'
      throw err
    } finally {
      this.options.metrics?.upstreamLatency.observe(
        { upstream: 'leaf', operation: call.operation, outcome },
        (performance.now() - started) / 1000,
      )
    }
  }

  private mayRetry(call: LeafCall, failure: LeafError, attempt: number): boolean {
    if (!failure.retryable || attempt >= this.retry.attempts || call.signal?.aborted === true) return false
    return !failure.ambiguous || call.retryAmbiguous !== false
  }

  private async pause(call: LeafCall, attempt: number, failure: LeafError, retryAfterMs: number | undefined) {
    const delayMs = retryAfterMs === undefined ? fullJitterMs(this.retry, attempt) : Math.min(retryAfterMs, this.retry.capMs)
    this.logger.info(
      { operation: call.operation, attempt, kind: failure.kind, status: failure.status, delayMs },
      'retrying leaf call',
    )
    await sleep(delayMs)
  }

  private transportError(call: LeafCall, err: unknown): LeafError {
    if (isTimeout(err)) {
      return new LeafError('timeout', `leaf ${call.operation}: no answer within ${this.options.timeoutMs} ms`, {
        operation: call.operation,
        retryable: true,
        ambiguous: true,
        cause: err,
      })
    }
    if (err instanceof LeafError) return err
    const neverSent = wasNeverSent(err)
    return new LeafError('unavailable', `leaf ${call.operation}: network error`, {
      operation: call.operation,
      retryable: true,
      ambiguous: !neverSent,
      cause: err,
    })
  }

  /** The error for a status we stop at; 4xx other than 404 are worth an operator's look. */
  private finalError(call: LeafCall, status: number, retryAfterMs?: number): LeafError {
    if (status >= 400 && status < 500 && status !== 404) {
      this.logger.warn({ operation: call.operation, status }, 'leaf refused the request')
    }
    if (status >= 300 && status < 400) {
      // A moved API or a hijacked name: either way an operator must look (the Location is not logged).
      this.logger.warn({ operation: call.operation, status }, 'leaf answered a redirect; not followed')
    }
    return this.statusError(call, status, retryAfterMs)
  }

  private statusError(call: LeafCall, status: number, retryAfterMs?: number): LeafError {
    const label = `leaf ${call.operation}: status ${status}`
    const known = { status, operation: call.operation }
    // The durable delivery job honours Retry-After beyond this call's own capped waits.
    const later = retryAfterMs === undefined ? known : { ...known, retryAfterMs }
    if (status === 429) return new LeafError('unavailable', `${label} (rate limited)`, { retryable: true, ...later })
    if (status >= 500) return new LeafError('unavailable', label, { retryable: true, ambiguous: true, ...later })
    if (status === 404) return new LeafError('not_found', label, known)
    if (status === 401) return new LeafError('unauthorized', label, known)
    if (status >= 400) return new LeafError('rejected', label, known)
    if (status >= 300) return new LeafError('invalid_response', `${label} (redirect, not followed)`, known)
    return new LeafError('invalid_response', label, known)
  }
}

/**
 * The body as text, refused past MAX_LEAF_BODY_BYTES (announced or actually sent): a broken or hostile
 * Leaf must not make the service buffer, parse and redact an unbounded answer.
 */
async function readCapped(res: Response, operation: string): Promise<string> {
  const tooLarge = () =>
    new LeafError('invalid_response', `leaf ${operation}: answer larger than ${MAX_LEAF_BODY_BYTES} bytes`, { status: res.status })
  const announced = Number(res.headers.get('content-length') ?? Number.NaN)
  if (announced > MAX_LEAF_BODY_BYTES) {
    await res.body?.cancel().catch(() => undefined)
    throw tooLarge()
  }
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_LEAF_BODY_BYTES) {
      await reader.cancel().catch(() => undefined)
      throw tooLarge()
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function outcomeOf(status: number): string {
  if (status < 300) return 'ok'
  if (status === 401) return 'unauthorized'
  if (status === 404) return 'not_found'
  if (status === 429) return 'rate_limited'
  if (status >= 500) return 'server_error'
  return 'client_error'
}
