import { Router } from 'express'
import { z } from 'zod'

import { createConnectSessionBody } from '../connect-links/routes.js'

/*
 * The OpenAPI 3.1 description of every HTTP route raven-connect serves, at GET /openapi.json.
 * test/openapi.test.ts walks the Express router and fails when a route exists on one side only, so a
 * new route cannot ship undocumented. The request body schema is generated from the zod schema the
 * handler parses with, so the two cannot drift.
 */

type Json = Record<string, unknown>

export const OPENAPI_ROUTE = '/openapi.json'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const problemRef = { $ref: '#/components/responses/Problem' }
const json = (schema: Json) => ({ 'application/json': { schema } })
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } })

const leafUserIdParam = {
  name: 'leafUserId',
  in: 'path',
  required: true,
  description: 'The Leaf user id: 1-64 characters of A-Z, a-z, 0-9, _ and -. Anything else is a 400, never forwarded to Leaf.',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
}

/** Errors every /v1 operation can answer with, beside its own. */
const v1Errors = {
  '400': problemRef,
  '401': { $ref: '#/components/responses/Unauthorized' },
  '429': { $ref: '#/components/responses/RateLimited' },
  '502': problemRef,
  '503': problemRef,
}

/** Errors of the browser's /api routes. */
const apiErrors = {
  '401': problemRef,
  '429': { $ref: '#/components/responses/RateLimited' },
  '502': problemRef,
  '503': problemRef,
}

function connectSessionRequestSchema(): Json {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(createConnectSessionBody, { unrepresentable: 'any' }) as Json
  return {
    ...schema,
    description:
      'Exactly one of leafUserId (an existing Leaf user) or externalId (find or create the Leaf user; name and email are used only then).',
    oneOf: [{ required: ['leafUserId'] }, { required: ['externalId'] }],
  }
}

const schemas: Record<string, Json> = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details; `code` is stable and meant for branching.',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', examples: ['invalid_leaf_user_id', 'unauthorized', 'leaf_user_not_found', 'rate_limited'] },
    },
  },
  ConnectSessionRequest: connectSessionRequestSchema(),
  ConnectSession: {
    type: 'object',
    required: ['id', 'connectUrl', 'leafUserId', 'expiresAt'],
    properties: {
      id: { type: 'string', description: 'Names the connect session in logs and webhooks; not a secret.' },
      connectUrl: {
        type: 'string',
        format: 'uri',
        description: '{PUBLIC_BASE_URL}/connect/raven?session=<token>: send the grower’s browser here. Usable once; a secret until used.',
      },
      leafUserId: { type: 'string' },
      expiresAt: { type: 'string', format: 'date-time' },
    },
  },
  ConnectionStatus: {
    oneOf: [
      {
        type: 'object',
        title: 'Connected',
        required: ['leafUserId', 'connected', 'pending', 'status', 'credentialId', 'createdTime', 'scopes'],
        properties: {
          leafUserId: { type: 'string' },
          connected: { const: true },
          pending: { const: false },
          status: { type: 'string', description: 'As Leaf reports it.' },
          credentialId: { type: 'string' },
          createdTime: { type: 'string', description: 'As Leaf reports it.' },
          scopes: { type: 'array', items: { type: 'string' } },
        },
      },
      {
        type: 'object',
        title: 'Not connected',
        required: ['leafUserId', 'connected', 'pending'],
        properties: {
          leafUserId: { type: 'string' },
          connected: { const: false },
          pending: { type: 'boolean', description: 'True while a refresh token is accepted but not yet delivered to Leaf.' },
        },
      },
    ],
  },
  ConnectionEvents: {
    type: 'object',
    required: ['leafUserId', 'events'],
    properties: {
      leafUserId: { type: 'string' },
      events: {
        type: 'array',
        description: 'Leaf’s credential events; every secret in body and headers is replaced by [REDACTED].',
        items: {
          type: 'object',
          required: ['id', 'createdDate', 'statusCode', 'body', 'headers'],
          properties: {
            id: { type: 'string' },
            createdDate: { type: 'string' },
            statusCode: { type: ['integer', 'string', 'null'] },
            body: {},
            headers: {},
          },
        },
      },
    },
  },
  Readiness: {
    type: 'object',
    required: ['status', 'checks'],
    properties: {
      status: { enum: ['ok', 'unavailable'] },
      checks: {
        type: 'object',
        required: ['redis', 'raven'],
        properties: { redis: { enum: ['ok', 'down'] }, raven: { enum: ['ok', 'unknown'] } },
      },
    },
  },
}

const paths: Record<string, Json> = {
  '/v1/connect-sessions': {
    post: {
      tags: ['host backend'],
      operationId: 'createConnectSession',
      summary: 'Create a one-time link that starts the consent flow for one grower',
      description:
        '`returnTo` must be an absolute URL on one of RETURN_TO_ORIGINS; the result comes back in its query (redirect mode) or is posted to its origin (popup mode).',
      security: [{ apiKey: [] }],
      requestBody: { required: true, content: json(ref('ConnectSessionRequest')) },
      responses: {
        '201': { description: 'Created', content: json(ref('ConnectSession')) },
        '404': problemRef,
        '409': problemRef,
        '413': problemRef,
        '415': problemRef,
        ...v1Errors,
      },
    },
  },
  '/v1/users/{leafUserId}/raven-connection': {
    parameters: [leafUserIdParam],
    get: {
      tags: ['host backend'],
      operationId: 'getRavenConnection',
      summary: 'Whether Leaf holds a Raven credential for this user',
      security: [{ apiKey: [] }],
      responses: { '200': { description: 'The connection status; never a secret', content: json(ref('ConnectionStatus')) }, ...v1Errors },
    },
    delete: {
      tags: ['host backend'],
      operationId: 'deleteRavenConnection',
      summary: 'Disconnect: remove the Raven credential at Leaf (204 also when nothing was connected)',
      security: [{ apiKey: [] }],
      responses: { '204': { description: 'Disconnected' }, ...v1Errors },
    },
  },
  '/v1/users/{leafUserId}/raven-connection/events': {
    parameters: [leafUserIdParam],
    get: {
      tags: ['host backend'],
      operationId: 'getRavenConnectionEvents',
      summary: 'Leaf’s troubleshooting events for the credential, secrets redacted',
      security: [{ apiKey: [] }],
      responses: { '200': { description: 'Events ([] when none)', content: json(ref('ConnectionEvents')) }, ...v1Errors },
    },
  },
  '/connect/raven': {
    get: {
      tags: ['grower browser'],
      operationId: 'launchConnectFlow',
      summary: 'Consume the connect token and send the browser to Raven’s consent page',
      parameters: [{ name: 'session', in: 'query', required: true, description: 'The one-time connect token from connectUrl.', schema: { type: 'string' } }],
      responses: {
        '303': { description: 'To Raven’s authorization endpoint (response_type=code, PKCE S256, state, nonce)' },
        '400': html('The link is incomplete'),
        '410': html('The link is unknown, used or expired: start again from the app'),
        '429': html('Too many requests'),
        '503': html('Raven or Redis unreachable; nothing was changed'),
      },
    },
    head: {
      tags: ['grower browser'],
      operationId: 'headConnectFlow',
      summary: 'Refused, so link previewers and scanners cannot spend a connect token',
      responses: { '405': { description: 'Allow: GET' } },
    },
  },
  '/connect/raven/callback': {
    get: {
      tags: ['grower browser'],
      operationId: 'connectCallback',
      summary: 'Raven’s redirect back: exchange the code, store the refresh token at Leaf, report the result',
      parameters: [
        { name: 'code', in: 'query', schema: { type: 'string' } },
        { name: 'state', in: 'query', schema: { type: 'string' } },
        { name: 'iss', in: 'query', schema: { type: 'string' } },
        { name: 'error', in: 'query', schema: { type: 'string' } },
      ],
      responses: {
        '303': { description: 'To returnTo with raven=connected|pending or raven=error&reason=<reason> in its query' },
        '200': html('Result page (no returnTo), or the popup end page that posts the result to the opener'),
        '4XX': html('Result page for an error; <main> carries data-raven and data-reason'),
        '5XX': html('Result page for an upstream or server error'),
      },
    },
    post: {
      tags: ['grower browser'],
      operationId: 'connectCallbackFormPost',
      summary: 'The same callback for RAVEN_RESPONSE_MODE=form_post',
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } },
      responses: {
        '303': { description: 'As for GET' },
        '200': html('As for GET'),
        '4XX': html('As for GET'),
        '5XX': html('As for GET'),
      },
    },
  },
  '/api/raven-connection': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserRavenConnection',
      summary: 'The connection status of the Leaf user this browser connected in the last hour',
      security: [{ sessionCookie: [] }],
      responses: { '200': { description: 'As /v1/users/{leafUserId}/raven-connection', content: json(ref('ConnectionStatus')) }, ...apiErrors },
    },
    delete: {
      tags: ['grower browser'],
      operationId: 'deleteBrowserRavenConnection',
      summary: 'Disconnect this browser’s Leaf user; needs an X-Requested-With header (CSRF)',
      security: [{ sessionCookie: [] }],
      parameters: [{ name: 'X-Requested-With', in: 'header', required: true, schema: { type: 'string' } }],
      responses: { '204': { description: 'Disconnected' }, '403': problemRef, ...apiErrors },
    },
  },
  '/api/raven-connection/events': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserRavenConnectionEvents',
      summary: 'Troubleshooting events for this browser’s Leaf user, secrets redacted',
      security: [{ sessionCookie: [] }],
      responses: { '200': { description: 'Events', content: json(ref('ConnectionEvents')) }, ...apiErrors },
    },
  },
  '/sdk/raven-connect.js': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserSdk',
      summary: 'The browser SDK: an ES module exporting connectRaven(connectUrl) (CORS for RETURN_TO_ORIGINS)',
      responses: { '200': { description: 'JavaScript module', content: { 'text/javascript': { schema: { type: 'string' } } } } },
    },
  },
  '/assets/{file}': {
    get: {
      tags: ['grower browser'],
      operationId: 'getAsset',
      summary: 'Stylesheet and script of the grower-facing pages (page.css, popup.js)',
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'The file' }, '404': problemRef },
    },
  },
  '/healthz': {
    get: {
      tags: ['operations'],
      operationId: 'healthz',
      summary: 'Liveness: 200 while the process runs',
      responses: { '200': { description: 'Alive', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } },
    },
  },
  '/readyz': {
    get: {
      tags: ['operations'],
      operationId: 'readyz',
      summary: 'Readiness: Redis answers and Raven’s endpoints are known',
      responses: {
        '200': { description: 'Ready', content: json(ref('Readiness')) },
        '503': { description: 'Not ready; the failing check is marked', content: json(ref('Readiness')) },
      },
    },
  },
  '/metrics': {
    get: {
      tags: ['operations'],
      operationId: 'metrics',
      summary: 'Prometheus metrics, text exposition format',
      responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  [OPENAPI_ROUTE]: {
    get: {
      tags: ['operations'],
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
    },
  },
}

/** The whole document; `publicBaseUrl` becomes its server. */
export function buildOpenApiDocument(publicBaseUrl: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'raven-connect',
      version: '0.1.0',
      description:
        'Connect a grower’s Raven account to their Leaf user with one button. The host backend creates a connect session with its API key; the grower’s browser runs the consent flow; the refresh token goes to Leaf and never leaves the server.',
    },
    servers: [{ url: publicBaseUrl }],
    tags: [
      { name: 'host backend', description: 'Authorization: Bearer <one of API_KEYS>' },
      { name: 'grower browser', description: 'The consent flow and this browser’s connection (signed session cookie)' },
      { name: 'operations', description: 'Health, readiness, metrics, this document' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS.' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'raven-connect.sid', description: '__Host-raven-connect when PUBLIC_BASE_URL is https.' },
      },
      responses: {
        Problem: { description: 'Problem details', content: { 'application/problem+json': { schema: ref('Problem') } } },
        Unauthorized: {
          description: 'Missing or wrong API key',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
          content: { 'application/problem+json': { schema: ref('Problem') } },
        },
        RateLimited: {
          description: 'Over RATE_LIMIT_PER_MINUTE',
          headers: { 'Retry-After': { schema: { type: 'integer' } } },
          content: { 'application/problem+json': { schema: ref('Problem') } },
        },
      },
    },
  }
}

/** GET /openapi.json, built once. */
export function openApiRoutes(publicBaseUrl: string): Router {
  const body = JSON.stringify(buildOpenApiDocument(publicBaseUrl))
  const router = Router()
  router.get(OPENAPI_ROUTE, (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300')
    res.type('application/json').send(body)
  })
  return router
}
