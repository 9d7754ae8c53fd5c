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
  [OPENAPI_ROUTE]: {
    get: {
      tags: ['operations'],
      operationId: 'openapi',
      summary: 'This document',
      responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
    },
  },
}
