import { Router } from 'express'

import { browserPaths } from './browser.js'
import { connectionSchemas, problemSchemas, responses, securitySchemes, type Json } from './components.js'
import { OPENAPI_ROUTE, operationsPaths, operationsSchemas } from './operations.js'
import { v1Paths, v1Schemas } from './v1.js'

/*
 * The OpenAPI 3.1 description of every HTTP route raven-connect serves, at GET /openapi.json, one part
 * per route area (v1.ts, browser.ts, operations.ts) over the shared components.ts.
 * test/openapi.test.ts walks the Express router and fails when a route exists on one side only, so a
 * new route cannot ship undocumented. The request body schema is generated from the zod schema the
 * handler parses with (connect-links/schemas.ts), so the two cannot drift.
 */

export { OPENAPI_ROUTE }

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
    paths: { ...v1Paths, ...browserPaths, ...operationsPaths },
    components: {
      schemas: { ...problemSchemas, ...v1Schemas, ...connectionSchemas, ...operationsSchemas },
      securitySchemes,
      responses,
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
