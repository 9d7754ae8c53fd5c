import { Router, type Request } from 'express'

import { connectedLeafUser } from '../browser-session/connected-user.js'
import { problem } from '../http/problem.js'
import type { ConnectionService } from './service.js'

/**
 * /api/raven-connection[/events] for the grower's browser: the same answers as /v1, for the Leaf user
 * this browser connected in the last hour. CORS and the session are mounted in app.ts.
 */
export function browserConnectionRoutes(connections: ConnectionService): Router {
  const router = Router()
  router.get('/raven-connection', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json(await connections.status(sessionLeafUser(req)))
  })
  router.delete('/raven-connection', async (req, res) => {
    // A cross-site <form> cannot set custom headers; requiring one stops CSRF on this state change.
    if (!req.headers['x-requested-with']) throw problem.forbidden('missing_csrf_header', 'DELETE needs an X-Requested-With header.')
    const leafUserId = sessionLeafUser(req)
    await connections.disconnect(leafUserId)
    res.status(204).end()
  })
  router.get('/raven-connection/events', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store').json(await connections.events(sessionLeafUser(req)))
  })
  router.all('/raven-connection', (_req, _res, next) => next(problem.methodNotAllowed('GET, DELETE')))
  router.all('/raven-connection/events', (_req, _res, next) => next(problem.methodNotAllowed('GET')))
  return router
}

function sessionLeafUser(req: Request): string {
  const leafUserId = connectedLeafUser(req.session)
  if (leafUserId === undefined) throw problem.noBrowserSession()
  return leafUserId
}
