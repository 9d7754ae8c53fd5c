import { Router } from 'express'

import { parseLeafUserId } from '../http/params.js'
import { problem } from '../http/problem.js'
import { rawQueryOf } from '../infra/query-params.js'
import { encodeCursor, parseListQuery } from './list-query.js'
import type { ConnectionService } from './service.js'

/**
 * /v1/users/:leafUserId/raven-connection[/events] and /v1/raven-connections for the host backend (API
 * key checked before).
 */
export function v1ConnectionRoutes(connections: ConnectionService): Router {
  const router = Router()
  router.get('/raven-connections', async (req, res) => {
    const options = parseListQuery(queryOnce(req.originalUrl))
    const page = await connections.list(options)
    res.setHeader('Cache-Control', 'no-store').json({
      connections: page.connections,
      nextCursor: page.after === null ? null : encodeCursor(page.after),
    })
  })
  router.all('/raven-connections', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
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

/** The raw query as an object; a parameter given twice is refused, not folded (parameter pollution). */
function queryOnce(url: string): Record<string, string> {
  const query = Object.create(null) as Record<string, string>
  for (const [name, value] of rawQueryOf(url)) {
    if (Object.hasOwn(query, name)) throw problem.badRequest('invalid_query', `${name}: given more than once.`)
    query[name] = value
  }
  return query
}
