/*
 * What the parts of the OpenAPI document share: the builders for references and content, the problem
 * body and the error responses every area answers with, the connection schemas that the host's /v1
 * routes and the browser's /api routes both return, and the two security schemes.
 */

export type Json = Record<string, unknown>

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
export const problemRef = { $ref: '#/components/responses/Problem' }
export const rateLimitedRef = { $ref: '#/components/responses/RateLimited' }
export const unauthorizedRef = { $ref: '#/components/responses/Unauthorized' }
export const json = (schema: Json) => ({ 'application/json': { schema } })
export const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } })

export const problemSchemas: Record<string, Json> = {
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
}

/** Returned by GET /v1/users/{leafUserId}/raven-connection… and by GET /api/raven-connection…. */
export const connectionSchemas: Record<string, Json> = {
  ConnectionStatus: {
    oneOf: [
      {
        type: 'object',
        title: 'Connected',
        required: ['leafUserId', 'connected', 'pending', 'status', 'credentialId', 'createdTime', 'scopes', 'health', 'healthChangedAt'],
        properties: {
          leafUserId: { type: 'string' },
          connected: { const: true },
          pending: { const: false },
          status: { type: 'string', description: 'As Leaf reports it.' },
          credentialId: { type: 'string' },
          createdTime: { type: 'string', description: 'As Leaf reports it.' },
          scopes: { type: 'array', items: { type: 'string' } },
          health: ref('Health'),
          healthChangedAt: {
            type: ['string', 'null'],
            format: 'date-time',
            description: 'The time of the Leaf alert that set `health`; null until one did.',
          },
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
  Health: {
    enum: ['ok', 'unauthenticated', 'limited_permission'],
    description: 'What Leaf’s Alerts last said of the credential; `ok` until they say otherwise, and again after a reconnect.',
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
}

export const securitySchemes: Record<string, Json> = {
  apiKey: { type: 'http', scheme: 'bearer', description: 'One of API_KEYS.' },
  sessionCookie: { type: 'apiKey', in: 'cookie', name: 'raven-connect.sid', description: '__Host-raven-connect when PUBLIC_BASE_URL is https.' },
}

export const responses: Record<string, Json> = {
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
}
