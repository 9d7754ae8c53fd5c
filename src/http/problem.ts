import type { Response } from 'express'

/**
 * An error with an RFC 9457 problem+json rendering. `code` is stable: host-app developers branch on it.
 * `detail` is shown to the caller, so it never carries a secret or an upstream body.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`)
    this.name = 'ProblemError'
  }
}

/** The catalogue of problems the JSON routes answer with. */
export const problem = {
  badRequest: (code: string, detail: string) => new ProblemError(400, code, 'Bad request', detail),
  invalidBody: (detail: string) => new ProblemError(400, 'invalid_body', 'Invalid request body', detail),
  invalidJson: () => new ProblemError(400, 'invalid_json', 'Malformed JSON', 'The request body is not valid JSON.'),
  invalidLeafUserId: () =>
    new ProblemError(400, 'invalid_leaf_user_id', 'Invalid leafUserId', 'leafUserId must be 1-64 characters of A-Z, a-z, 0-9, _ and -.'),
  unauthorized: () =>
    new ProblemError(401, 'unauthorized', 'Unauthorized', 'Send a valid API key as Authorization: Bearer <key>.', {
      'WWW-Authenticate': 'Bearer realm="raven-connect"',
    }),
  noBrowserSession: () =>
    new ProblemError(401, 'no_session', 'No connected session', 'This browser has no recent Raven connection; start again from the app.'),
  forbidden: (code: string, detail: string) => new ProblemError(403, code, 'Forbidden', detail),
  notFound: (code: string, detail: string) => new ProblemError(404, code, 'Not found', detail),
  methodNotAllowed: (allow: string) =>
    new ProblemError(405, 'method_not_allowed', 'Method not allowed', `Allowed: ${allow}.`, { Allow: allow }),
  conflict: (code: string, detail: string) => new ProblemError(409, code, 'Conflict', detail),
  payloadTooLarge: () => new ProblemError(413, 'payload_too_large', 'Payload too large', 'JSON bodies are limited to 100 kB.'),
  uriTooLong: (max: number) => new ProblemError(414, 'uri_too_long', 'URI too long', `Request URLs are limited to ${max} characters.`),
  headersTooLarge: () =>
    new ProblemError(431, 'headers_too_large', 'Request header fields too large', 'The request headers are too large or too many.'),
  duplicateKey: () => new ProblemError(400, 'duplicate_key', 'Duplicate JSON key', 'An object in the body names the same key twice.'),
  forbiddenKey: () =>
    new ProblemError(400, 'forbidden_key', 'Forbidden JSON key', 'Keys named __proto__, constructor or prototype are not accepted.'),
  unsupportedMediaType: () =>
    new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as application/json.'),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ProblemError(429, 'rate_limited', 'Too many requests', `Slow down; retry after ${retryAfterSeconds} seconds.`, {
      'Retry-After': String(retryAfterSeconds),
    }),
  upstreamUnavailable: (upstream: string) =>
    new ProblemError(502, 'upstream_unavailable', 'Upstream unavailable', `${upstream} did not answer as expected; try again shortly.`),
  serviceUnavailable: (detail: string) =>
    new ProblemError(503, 'service_unavailable', 'Service unavailable', detail, { 'Retry-After': '5' }),
  serverError: () => new ProblemError(500, 'server_error', 'Internal server error', 'Something went wrong on our side.'),
}

/** The RFC 9457 body: the one serialization, also used where Node answers before Express runs. */
export function problemBody(error: Pick<ProblemError, 'status' | 'code' | 'title' | 'detail'>): string {
  return JSON.stringify({
    type: `https://raven-connect.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    code: error.code,
  })
}

export function sendProblem(res: Response, error: ProblemError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value)
  res.status(error.status).type('application/problem+json').send(problemBody(error))
}
