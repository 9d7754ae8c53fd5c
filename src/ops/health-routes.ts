import { Router } from 'express'

import { withTimeout } from '../infra/async.js'
import type { Metrics } from '../infra/metrics.js'
import type { Redis } from '../infra/redis.js'
import type { RavenClient } from '../raven/client.js'

export interface HealthDeps {
  redis: Redis
  raven: RavenClient
  metrics: Metrics
  /** Set during shutdown so load balancers stop sending traffic before the listener closes. */
  isShuttingDown: () => boolean
}

/** /healthz (process alive), /readyz (Redis answers, Raven endpoints known), /metrics (Prometheus). */
export function healthRoutes(deps: HealthDeps): Router {
  const router = Router()
  // `protocol` is how this request was seen (https only through a proxy TRUST_PROXY trusts): the
  // doctor's `--public` check compares it with the https it used. It says nothing secret.
  router.get('/healthz', (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json({ status: 'ok', protocol: req.protocol })
  })
  router.get('/readyz', async (_req, res) => {
    const [redis, raven] = await Promise.all([checkRedis(deps.redis), checkRaven(deps.raven)])
    const ok = redis === 'ok' && raven === 'ok' && !deps.isShuttingDown()
    res
      .status(ok ? 200 : 503)
      .setHeader('Cache-Control', 'no-store')
      .json({ status: ok ? 'ok' : 'unavailable', checks: { redis, raven } })
  })
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics())
  })
  return router
}

async function checkRedis(redis: Redis): Promise<'ok' | 'down'> {
  try {
    const answer = await withTimeout(redis.ping(), 1000, 'Redis did not answer PING')
    return answer === 'PONG' ? 'ok' : 'down'
  } catch {
    return 'down'
  }
}

/** Known endpoints are 'ok'; otherwise kick off one (shared) discovery attempt and report 'unknown'. */
async function checkRaven(raven: RavenClient): Promise<'ok' | 'unknown'> {
  if (raven.ready) return 'ok'
  raven.getConfiguration().catch(() => undefined)
  return 'unknown'
}
