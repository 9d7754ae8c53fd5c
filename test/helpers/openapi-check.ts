import type { Express } from 'express'

/*
 * Helpers for test/openapi.test.ts: the routes an Express 5 app really serves (from its router stack),
 * and a small JSON Schema checker for the subset the OpenAPI document uses, so real answers can be
 * held against the documented schemas without adding a validator dependency.
 */

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> }
  handle: { stack?: Layer[] }
  rawPath?: unknown
}

/** "METHOD /path/{param}" for every route, plus "MOUNT /prefix" for path-mounted middleware (static files). */
export function routesOf(app: Express): string[] {
  const router = (app as unknown as { router: { stack: Layer[] } }).router
  const found = new Set<string>()
  walk(router.stack, '', found)
  return [...found].sort()
}

function walk(stack: Layer[], prefix: string, found: Set<string>): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]
      for (const path of paths) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          // `router.all` handlers answer 405 for the methods a path lacks: not operations.
          if (on && method !== '_all') found.add(`${method.toUpperCase()} ${toOpenApiPath(join(prefix, path))}`)
        }
      }
      continue
    }
    const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '/'
    if (layer.handle.stack) walk(layer.handle.stack, join(prefix, mount), found)
    else if (mount !== '/') found.add(`MOUNT ${join(prefix, mount)}`)
  }
}

function join(prefix: string, path: string): string {
  const joined = `${prefix}/${path}`.replace(/\/+/g, '/')
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

/** The same shape of list from an OpenAPI document's `paths`. */
export function operationsOf(document: { paths: Record<string, Record<string, unknown>> }): string[] {
  const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'])
  const found: string[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const key of Object.keys(item)) if (methods.has(key)) found.push(`${key.toUpperCase()} ${path}`)
  }
  return found.sort()
}

type Schema = Record<string, unknown>

/**
 * Problems with `value` against `schema` (empty when it conforms). Handles $ref (within `root`),
 * type, const, enum, required, properties, additionalProperties: false, items, oneOf, if/then, pattern.
 */
export function schemaProblems(value: unknown, schema: Schema, root: Schema, at = '$'): string[] {
  if (typeof schema.$ref === 'string') return schemaProblems(value, resolveRef(root, schema.$ref), root, at)
  const problems: string[] = []
  if ('const' in schema && value !== schema.const) problems.push(`${at}: expected ${JSON.stringify(schema.const)}`)
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) problems.push(`${at}: not one of ${JSON.stringify(schema.enum)}`)
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    if (!types.some((type) => hasType(value, String(type)))) problems.push(`${at}: expected ${types.join('|')}, got ${JSON.stringify(value)}`)
  }
  if (typeof schema.pattern === 'string' && typeof value === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    problems.push(`${at}: does not match ${schema.pattern}`)
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = schema.oneOf.filter((option) => schemaProblems(value, option as Schema, root, at).length === 0)
    if (matching.length !== 1) problems.push(`${at}: matches ${matching.length} of the oneOf options`)
  }
  if (isObject(schema.if) && isObject(schema.then) && schemaProblems(value, schema.if as Schema, root, at).length === 0) {
    problems.push(...schemaProblems(value, schema.then as Schema, root, at))
  }
  if (isObject(value)) {
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in value)) problems.push(`${at}.${key}: required`)
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    for (const [key, child] of Object.entries(value)) {
      const childSchema = properties[key]
      if (childSchema) problems.push(...schemaProblems(child, childSchema, root, `${at}.${key}`))
      else if (schema.additionalProperties === false) problems.push(`${at}.${key}: not allowed`)
    }
  }
  if (Array.isArray(value) && isObject(schema.items)) {
    value.forEach((item, index) => problems.push(...schemaProblems(item, schema.items as Schema, root, `${at}[${index}]`)))
  }
  return problems
}

/** Every `$ref` in the document, for checking that each resolves. */
export function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found))
  else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child)
      else refsIn(child, found)
    }
  }
  return found
}

export function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local refs are used: ${ref}`)
  let node: unknown = root
  for (const part of ref.slice(2).split('/')) node = isObject(node) ? node[part] : undefined
  if (!isObject(node)) throw new Error(`unresolved $ref ${ref}`)
  return node
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value)
    case 'array':
      return Array.isArray(value)
    case 'integer':
      return Number.isInteger(value)
    case 'null':
      return value === null
    default:
      return typeof value === type
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
