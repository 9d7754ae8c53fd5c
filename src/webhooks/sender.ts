import { UnrecoverableError } from 'bullmq'

import { parseRetryAfterMs } from '../infra/async.js'
import type { Logger } from '../infra/logger.js'
import type { WebhookJobData } from './events.js'
import { SIGNATURE_HEADER, signWebhook } from './signature.js'

/** A try that may succeed later: network error, timeout, 429 or 5xx. */
export class WebhookRetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message)
    this.name = 'WebhookRetryableError'
  }
}

const TIMEOUT_MS = 10_000

/**
 * One POST of a queued event, signed afresh (a new `t`) over the same bytes. 2xx is done; network
 * errors, timeouts, 429 and 5xx are retried by the queue; any other answer is final (the receiver
 * refused this event; sending it again would not change that). Redirects are not followed.
 */
export async function sendWebhook(
  target: { url: string; secret: string },
  job: WebhookJobData,
  logger: Logger,
  attempt: number,
): Promise<void> {
  const log = logger.child({ module: 'webhooks' })
  let res: Response
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'raven-connect (webhooks)',
        [SIGNATURE_HEADER]: signWebhook(target.secret, job.body),
      },
      body: job.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    await res.arrayBuffer().catch(() => undefined)
  } catch (err) {
    const timeout = (err as { name?: string }).name === 'TimeoutError'
    log.warn({ eventId: job.eventId, type: job.type, attempt, failure: timeout ? 'timeout' : 'network_error' }, 'webhook not delivered; will retry')
    throw new WebhookRetryableError(timeout ? 'webhook: timeout' : 'webhook: network error')
  }
  if (res.status >= 200 && res.status < 300) {
    log.info({ eventId: job.eventId, type: job.type, attempt, status: res.status }, 'webhook delivered')
    return
  }
  if (res.status === 429 || res.status >= 500) {
    log.warn({ eventId: job.eventId, type: job.type, attempt, status: res.status }, 'webhook not delivered; will retry')
    throw new WebhookRetryableError(`webhook: status ${res.status}`, parseRetryAfterMs(res.headers.get('retry-after')))
  }
  log.warn({ eventId: job.eventId, type: job.type, attempt, status: res.status }, 'webhook refused by the receiver; not retried')
  throw new UnrecoverableError(`webhook: refused with status ${res.status}`)
}
