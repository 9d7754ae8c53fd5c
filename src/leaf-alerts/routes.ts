import express, { Router, type RequestHandler } from 'express'

import { ProblemError, problem } from '../http/problem.js'
import type { Metrics } from '../infra/metrics.js'
import type { AlertIntake } from './intake.js'
import { isValidLeafSignature } from './signature.js'

/**
 * `POST /leaf/alerts`: Leaf's Alerts. Mounted before any JSON parser: the signature is over the raw
 * bytes, which a parser would not give back. The rate limit applies only to requests whose signature
 * fails, so a burst of genuine alerts (Leaf catching up after an outage) is never turned away, while a
 * forger's guesses are limited like any client's.
 */
export function leafAlertRoutes(deps: {
  secret: string | undefined
  intake: AlertIntake
  limitUnsigned: RequestHandler
  metrics: Pick<Metrics, 'leafAlerts'>
}): Router {
  const router = Router()
  const { secret, intake, metrics } = deps
  const rawBody = express.raw({ type: () => true, limit: '100kb' })
  // Unset LEAF_ALERTS_SECRET: the route answers as if it did not exist (contract), whatever the method,
  // before reading a byte of the body.
  const enabled: RequestHandler = (_req, _res, next) =>
    next(secret === undefined ? problem.notFound('not_found', 'Leaf Alerts are not enabled on this service.') : undefined)

  router.post('/leaf/alerts', enabled, rawBody, (req, res, next) => {
    if (secret === undefined) return next(problem.notFound('not_found', 'Leaf Alerts are not enabled on this service.'))
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    if (isValidLeafSignature(body, req.get('x-leaf-signature'), secret)) return next()
    metrics.leafAlerts.inc({ type: 'unverified', outcome: 'rejected_signature' })
    deps.limitUnsigned(req, res, (err?: unknown) => {
      if (err) return next(err)
      // No WWW-Authenticate challenge: Leaf signs its bodies, it speaks no HTTP auth scheme.
      next(new ProblemError(401, 'invalid_signature', 'Unauthorized', 'X-Leaf-Signature is missing or does not match the body.'))
    })
  })
  router.post('/leaf/alerts', async (req, res) => {
    let parsed: unknown
    try {
      parsed = JSON.parse((req.body as Buffer).toString('utf8'))
    } catch {
      throw problem.invalidJson()
    }
    const outcome = await intake.handle(parsed, 'webhook')
    res.setHeader('Cache-Control', 'no-store').status(200).json({ received: true, outcome })
  })
  router.all('/leaf/alerts', enabled, (_req, _res, next) => next(problem.methodNotAllowed('POST')))
  return router
}

