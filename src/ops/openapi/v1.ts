import { z } from 'zod'

import { createConnectSessionBody } from '../../connect-links/schemas.js'
import { json, problemRef, rateLimitedRef, ref, unauthorizedRef, type Json } from './components.js'

/* The host backend's routes under /v1 (API key), and the schemas only they use. */

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
  '401': unauthorizedRef,
  '429': rateLimitedRef,
  '502': problemRef,
  '503': problemRef,
}

/** Generated from the zod schema the route parses with, so the two cannot drift. */
function connectSessionRequestSchema(): Json {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(createConnectSessionBody, { unrepresentable: 'any' }) as Json
  return {
    ...schema,
    description:
      'Exactly one of leafUserId (an existing Leaf user) or externalId (find or create the Leaf user; name and email are used only then).',
    oneOf: [{ required: ['leafUserId'] }, { required: ['externalId'] }],
    // zod's refine is not representable: popup mode posts its result to returnTo's origin.
    if: { properties: { mode: { const: 'popup' } }, required: ['mode'] },
    then: { required: ['returnTo'] },
  }
}

export const v1Schemas: Record<string, Json> = {
  ConnectionList: {
    type: 'object',
    required: ['connections', 'nextCursor'],
    properties: {
      connections: {
        type: 'array',
        items: {
          type: 'object',
          required: ['leafUserId', 'credentialId', 'health', 'healthChangedAt', 'connectedAt'],
          properties: {
            leafUserId: { type: 'string' },
            credentialId: { type: 'string' },
            health: ref('Health'),
            healthChangedAt: { type: ['string', 'null'], format: 'date-time' },
            connectedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
      nextCursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last one.' },
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
}

export const v1Paths: Record<string, Json> = {
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
  '/v1/raven-connections': {
    get: {
      tags: ['host backend'],
      operationId: 'listRavenConnections',
      summary: 'The connections this service made and still knows of, e.g. every grower who must reconnect',
      description:
        'Ordered by Leaf user id. Paging is stable under concurrent changes: no connection that exists throughout is skipped; one may appear twice.',
      security: [{ apiKey: [] }],
      parameters: [
        { name: 'health', in: 'query', required: false, schema: ref('Health') },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
        { name: 'cursor', in: 'query', required: false, description: 'The `nextCursor` of the previous page; opaque.', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'One page', content: json(ref('ConnectionList')) }, ...v1Errors },
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
}
