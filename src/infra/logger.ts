import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino'

export type { Logger }

/**
 * Field paths pino replaces with [REDACTED] wherever they appear in a log record. Listed here, beside
 * the logger, so a new secret-bearing field is added in one place. Code should not log secrets at all;
 * this is the net under that rule.
 */
export const REDACT_PATHS = [
  'clientSecret',
  'client_secret',
  'refreshToken',
  'refresh_token',
  'accessToken',
  'access_token',
  'id_token',
  'idToken',
  'code_verifier',
  'codeVerifier',
  '*.codeVerifier',
  'nonce',
  '*.nonce',
  'password',
  'token',
  'authorization',
  'cookie',
  'set-cookie',
  '*.clientSecret',
  '*.client_secret',
  '*.refreshToken',
  '*.refresh_token',
  '*.accessToken',
  '*.access_token',
  '*.id_token',
  '*.password',
  '*.token',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

export interface LoggerSettings {
  level?: string
  /** Where records go; defaults to stdout. Tests pass a collecting stream. */
  destination?: NodeJS.WritableStream | DestinationStream
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    base: { service: 'raven-connect' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    // Library errors (fetch, openid-client) can carry request/response bodies in enumerable
    // properties; serialize only what helps an operator.
    serializers: { err: serializeError },
  }
  // pino.destination is asynchronous-friendly sonic-boom; sync: false keeps logging off the hot path.
  const destination = settings.destination ?? pino.destination({ dest: 1, sync: false })
  return pino(options, destination)
}

/** Name, code, message and stack, plus the `cause` chain's names/codes: never bodies or headers. */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) {
    // Callers may pass a plain `{ message }` (already stripped of anything sensitive).
    const message = (err as { message?: unknown } | null)?.message
    return { message: typeof message === 'string' ? message : String(err) }
  }
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack }
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') out.code = code
  const status = (err as { status?: unknown }).status
  if (typeof status === 'number') out.status = status
  const cause = (err as { cause?: unknown }).cause
  if (cause instanceof Error) out.cause = { type: cause.name, message: cause.message }
  return out
}
