import { Router } from 'express'

import { parseLeafUserId } from '../http/params.js'
import { problem } from '../http/problem.js'
import type { ConnectionService } from './service.js'

/** /v1/users/:leafUserId/raven-connection[/events] for the host backend (API key checked before). */
export function v1ConnectionRoutes(connections: ConnectionService): Router {
  const router = Router()
  router.get('/users/:leafUserId/raven-connection', async (req, res) => {
    const leafUserId = parseLeafUserId(req.params.leafUserId)
    res.setHeader('Cache-Control', 'no-store').json(await connections.status(leafUserId))
  })
  router.delete('/users/:leafUserId/raven-connection', async (req, res) => {
    const leafUserId = parseLeafUserId(req.params.leafUserId)
    await connections.disconnect(leafUserId)
    res.status(204).end()
  })
  router.get('/users/:leafUserId/raven-connection/events', async (req, res) => {
    const leafUserId = parseLeafUserId(req.params.leafUserId)
    res.setHeader('Cache-Control', 'no-store').json(await connections.events(leafUserId))
  })
  router.all('/users/:leafUserId/raven-connection', (_req, _res, next) => next(problem.methodNotAllowed('GET, DELETE')))
  router.all('/users/:leafUserId/raven-connection/events', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  return router
}
