import { timingSafeEqual } from 'node:crypto'

import express from 'express'
import { errors } from 'oidc-provider'

import { GROWER_ACCOUNT_ID } from './config.js'
import { consentPage, errorPage, loginPage } from './views.js'

import type { NextFunction, Request, Response, Router } from 'express'
import type { InteractionDetails, Provider } from 'oidc-provider'
import type { SandboxGrower } from './config.js'
import type { Logger } from '../../src/infra/logger.js'

/**
 * Login and consent pages for oidc-provider's interactions (they replace devInteractions), following
 * the shape of oidc-provider's example/routes/express.js: render by `prompt.name`, finish with
 * `interactionFinished`, and decline with an `access_denied` result.
 */
export function interactionRouter(provider: Provider, grower: SandboxGrower, logger: Logger): Router {
  const router = express.Router()
  const form = express.urlencoded({ extended: false, limit: '8kb' })

  router.use('/interaction', pageHeaders)

  router.get('/interaction/:uid', async (req, res) => {
    const details = await currentInteraction(provider, req, res)
    const clientName = await clientNameOf(provider, details)
    if (details.prompt.name === 'login') {
      res.send(loginPage({ action: `/interaction/${details.uid}/login`, clientName }))
      return
    }
    if (details.prompt.name === 'consent') {
      res.send(consentPage({ action: `/interaction/${details.uid}/consent`, clientName, scopes: requestedScopes(details) }))
      return
    }
    res.status(501).send(errorPage('not_implemented', `prompt ${details.prompt.name} is not supported`))
  })

  router.post('/interaction/:uid/login', form, async (req, res) => {
    const details = await currentInteraction(provider, req, res, 'login')
    const username = fieldOf(req, 'username')
    if (!sameText(username.toLowerCase(), grower.username.toLowerCase()) || !sameText(fieldOf(req, 'password'), grower.password)) {
      logger.info({ uid: details.uid }, 'sandbox login refused')
      const clientName = await clientNameOf(provider, details)
      res.send(loginPage({ action: req.originalUrl, clientName, username, error: 'Wrong email or password.' }))
      return
    }
    await provider.interactionFinished(req, res, { login: { accountId: GROWER_ACCOUNT_ID } }, { mergeWithLastSubmission: false })
  })

  router.post('/interaction/:uid/consent', form, async (req, res) => {
    const details = await currentInteraction(provider, req, res, 'consent')
    const decision = fieldOf(req, 'decision')
    if (decision === 'decline') {
      logger.info({ uid: details.uid }, 'sandbox consent declined')
      const result = { error: 'access_denied', error_description: 'The grower declined to connect their Raven account' }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
      return
    }
    if (decision !== 'allow') {
      res.status(400).send(errorPage('invalid_request', 'choose Allow or Decline'))
      return
    }
    const grantId = await grantRequested(provider, details)
    logger.info({ uid: details.uid }, 'sandbox consent given')
    // Only a new grant is reported; an existing one was updated in place (example/routes/express.js).
    const consent = details.grantId ? {} : { grantId }
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true })
  })

  router.use('/interaction', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err)
    if (err instanceof errors.SessionNotFound) {
      // No interaction cookie, or it expired: the only way forward is to start from the app again.
      res.status(400).send(errorPage('session_not_found', 'This sign-in has expired or was already used.'))
      return
    }
    if (err instanceof WrongPromptError) {
      res.status(400).send(errorPage('invalid_request', err.message))
      return
    }
    logger.error({ err }, 'sandbox interaction failed')
    res.status(500).send(errorPage('server_error', 'The Raven sandbox failed.'))
  })

  return router
}

class WrongPromptError extends Error {}

function pageHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store')
  res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
  res.set('Referrer-Policy', 'no-referrer')
  next()
}

async function currentInteraction(provider: Provider, req: Request, res: Response, expected?: string): Promise<InteractionDetails> {
  const details = await provider.interactionDetails(req, res)
  // The uid in the path must be the one the interaction cookie names: a stale tab gets an error page.
  if (details.uid !== req.params.uid) throw new WrongPromptError('this page belongs to another sign-in')
  if (expected && details.prompt.name !== expected) throw new WrongPromptError(`expected the ${expected} step`)
  return details
}

async function clientNameOf(provider: Provider, details: InteractionDetails): Promise<string> {
  const client = await provider.Client.find(details.params.client_id)
  return client?.clientName ?? client?.clientId ?? 'An application'
}

function requestedScopes(details: InteractionDetails): string[] {
  return (details.params.scope ?? '').split(' ').filter(Boolean)
}

async function grantRequested(provider: Provider, details: InteractionDetails): Promise<string> {
  const accountId = details.session?.accountId
  if (!accountId) throw new WrongPromptError('sign in first')
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined
  const grant = existing ?? new provider.Grant({ accountId, clientId: details.params.client_id })
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '))
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims)
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  return grant.save()
}

function fieldOf(req: Request, name: string): string {
  const body: unknown = req.body
  if (typeof body !== 'object' || body === null) return ''
  const value = (body as Record<string, unknown>)[name]
  return typeof value === 'string' ? value : ''
}

// Constant-time for equal lengths; the length itself is not a secret worth hiding in a sandbox.
function sameText(actual: string, expected: string): boolean {
  const a = Buffer.from(actual)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
