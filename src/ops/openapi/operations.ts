import { json, ref, type Json } from './components.js'

/* Health, readiness, metrics and this document: for operators and load balancers, no authentication. */

export const OPENAPI_ROUTE = '/openapi.json'

export const operationsSchemas: Record<string, Json> = {
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

export const operationsPaths: Record<string, Json> = {
  '/healthz': {
    get: {
      tags: ['operations'],
      operationId: 'healthz',
      summary: 'Liveness: 200 while the process runs',
      responses: {
        '200': {
          description: 'Alive; `protocol` is how the service saw this request (`https` behind a TLS proxy only when TRUST_PROXY trusts it)',
          content: json({ type: 'object', properties: { status: { const: 'ok' }, protocol: { enum: ['http', 'https'] } } }),
        },
      },
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
  '/leaf/alerts': {
    post: {
      tags: ['operations'],
      operationId: 'receiveLeafAlert',
      summary: 'Leaf’s Alerts (only when LEAF_ALERTS_SECRET is set; 404 otherwise)',
      description:
        'The raw body (at most 100 kB) must carry `X-Leaf-Signature`: the base64 of HMAC-SHA256 of the body under LEAF_ALERTS_SECRET. Credential alerts for Raven credentials this service created set the connection’s health and send one `connection.broken` webhook; the registration confirmation and every other alert are answered 2xx and change nothing.',
      parameters: [{ name: 'X-Leaf-Signature', in: 'header', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: json({ type: 'object' }) },
      responses: {
        '200': {
          description: 'Received (whatever it changed)',
          content: json({ type: 'object', required: ['received', 'outcome'], properties: { received: { const: true }, outcome: { type: 'string' } } }),
        },
        '400': { $ref: '#/components/responses/Problem' },
        '401': { $ref: '#/components/responses/Problem' },
        '404': { $ref: '#/components/responses/Problem' },
        '413': { $ref: '#/components/responses/Problem' },
        '429': { $ref: '#/components/responses/RateLimited' },
      },
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
