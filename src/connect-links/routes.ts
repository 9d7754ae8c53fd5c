import { Router, type Request, type Response } from 'express'

import type { Config } from '../config/load-config.js'
import { describeZodError, leafUserIdSchema } from '../http/params.js'
import { problem } from '../http/problem.js'
import type { LeafClient } from '../leaf/client.js'
import type { Logger } from '../infra/logger.js'
import type { WithExternalIdLock } from './external-id-lock.js'
import { checkReturnTo } from './return-to.js'
import { createConnectSessionBody, type ConnectSessionReply, type CreateConnectSessionBody } from './schemas.js'
import type { ConnectLinkStore } from './token-store.js'

export interface ConnectLinkRouteDeps {
  config: Config
  connectLinks: ConnectLinkStore
  leaf: LeafClient
  logger: Logger
  /** One find-or-create per externalId at a time, across instances. */
  withExternalIdLock: WithExternalIdLock
}

/** POST /v1/connect-sessions: a one-time link that starts the consent flow for one Leaf user. */
export function connectLinkRoutes(deps: ConnectLinkRouteDeps): Router {
  const router = Router()
  const log = deps.logger.child({ module: 'connect-sessions' })
  router.post('/', async (req: Request, res: Response) => {
    const body = parseBody(req.body)
    const returnTo = body.returnTo === undefined ? undefined : checkReturnTo(body.returnTo, deps.config.returnToOrigins)
    const leafUserId = await resolveLeafUser(deps, body)
    const { token, record } = await deps.connectLinks.create(
      { leafUserId, mode: body.mode ?? 'redirect', ...(returnTo ? { returnTo } : {}), ...(body.locale ? { locale: body.locale } : {}) },
      deps.config.connectSessionTtlSeconds,
    )
    log.info({ reqId: req.id, connectSessionId: record.id, leafUserId, apiKey: req.apiKeyId }, 'connect session created')
    const reply: ConnectSessionReply = {
      id: record.id,
      connectUrl: `${deps.config.publicBaseUrl}/connect/raven?session=${token}`,
      leafUserId,
      expiresAt: record.expiresAt,
    }
    res.status(201).setHeader('Cache-Control', 'no-store').json(reply)
  })
  router.all('/', (_req, _res, next) => next(problem.methodNotAllowed('POST')))
  return router
}

function parseBody(body: unknown): CreateConnectSessionBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problem.invalidBody('The body must be a JSON object.')
  }
  const parsed = createConnectSessionBody.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    if (issue?.path[0] === 'leafUserId') throw problem.invalidLeafUserId()
    throw problem.invalidBody(describeZodError(parsed.error))
  }
  return parsed.data
}

/** The Leaf user the link is for. Leaf's failures reach the error handler, which maps them (http/leaf-problem.ts). */
async function resolveLeafUser({ leaf, withExternalIdLock }: ConnectLinkRouteDeps, body: CreateConnectSessionBody): Promise<string> {
  if (body.leafUserId !== undefined) {
    const user = await leaf.getUser(body.leafUserId)
    if (!user) throw problem.notFound('leaf_user_not_found', 'Leaf does not know this leafUserId.')
    return body.leafUserId
  }
  const externalId = body.externalId as string
  const user = await withExternalIdLock(externalId, () =>
    leaf.findOrCreateUserByExternalId({
      externalId,
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.email !== undefined ? { email: body.email } : {}),
    }),
  )
  if (!leafUserIdSchema.safeParse(user.id).success) throw problem.upstreamUnavailable('Leaf')
  return user.id
}
