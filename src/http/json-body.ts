import express, { type RequestHandler } from 'express'

import { problem } from './problem.js'

/** Keys that reach an object's prototype when a parsed body is later merged with `Object.assign`. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * JSON bodies for the JSON routes: `application/json` only (else 415), at most `limit` (else 413),
 * well-formed (else 400 invalid_json), an object or array at the top, no object naming a key twice
 * (`JSON.parse` keeps the last one silently, so two parsers could disagree about which value counts),
 * and no prototype-reaching keys. Requests without a body pass through untouched.
 */
export function jsonBody(limit = '100kb'): RequestHandler {
  const readText = express.text({ type: () => true, limit, defaultCharset: 'utf-8' })
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) return next(problem.unsupportedMediaType())
    next()
  }
  const parse: RequestHandler = (req, _res, next) => {
    if (typeof req.body !== 'string') return next()
    const text = req.body
    if (text === '') {
      // `Content-Length: 0` is no body at all, as for a bodiless PUT or DELETE.
      req.body = undefined
      return next()
    }
    const start = text.trimStart().charAt(0)
    if (start !== '{' && start !== '[') return next(problem.invalidJson())
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return next(problem.invalidJson())
    }
    const check = checkKeys(text)
    if (check === 'duplicate') return next(problem.duplicateKey())
    if (check === 'forbidden') return next(problem.forbiddenKey())
    req.body = value
    next()
  }
  // One layer in the route table, and a bodiless request (every GET) leaves it at once: the reader and
  // the parser run only for requests that carry a body.
  return (req, res, next) => {
    if (!hasBody(req.headers)) return next()
    requireJson(req, res, (err?: unknown) => {
      if (err) return next(err)
      void readText(req, res, (readErr?: unknown) => (readErr ? next(readErr) : parse(req, res, next)))
    })
  }
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length']
  if (length !== undefined) return length !== '0'
  return headers['transfer-encoding'] !== undefined
}

/**
 * Walks well-formed JSON text (already accepted by JSON.parse) and reports the first object that names
 * a key twice, or any forbidden key. Keys are compared after unescaping, so `"a"` and `"\u0061"` are
 * the same key, as they are to JSON.parse.
 */
export function checkKeys(text: string): 'ok' | 'duplicate' | 'forbidden' {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: Array<Set<string> | null> = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (char === '{') {
      stack.push(new Set())
      expectKey = true
    } else if (char === '[') {
      stack.push(null)
      expectKey = false
    } else if (char === '}' || char === ']') {
      stack.pop()
      expectKey = false
    } else if (char === ',') {
      expectKey = stack[stack.length - 1] instanceof Set
    } else if (char === ':') {
      expectKey = false
    } else if (char === '"') {
      const end = stringEnd(text, i)
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (FORBIDDEN_KEYS.has(key)) return 'forbidden'
        const keys = stack[stack.length - 1]
        if (keys) {
          if (keys.has(key)) return 'duplicate'
          keys.add(key)
        }
        expectKey = false
      }
      i = end
    }
  }
  return 'ok'
}

/** Index of the closing quote of the JSON string starting at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return text.length - 1
}
