// The contract's error answers: RFC 9457 problem+json with a stable `code`, and never anything of the
// service's insides (a stack, a file path, an error's name, the framework's default page).
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect } from '@jest/globals'
import type { Response as SupertestResponse } from 'supertest'

/** The folder holding the checkout: any absolute path of the code on disk starts with it. */
const CODE_DIRECTORY = `${dirname(fileURLToPath(new URL('../../../', import.meta.url)))}/`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const INTERNALS = new RegExp(
  [String.raw`\bat [\w.<>]+ \(`, 'node_modules', CODE_DIRECTORY, 'Error:', 'Cannot (GET|POST|PUT|DELETE|HEAD|PATCH)', '<pre>'].join('|'),
)

/** Never a stack trace, a file path, an error name or the framework's default error page. */
export function expectNoInternals(body: string): void {
  expect(body).not.toMatch(INTERNALS)
}

/** A problem+json answer (RFC 9457) with the contract's shape and stable `code`; returns the body. */
export async function expectProblem(res: Response | SupertestResponse, status: number, code: string): Promise<Record<string, unknown>> {
  const { type, text } = isFetchResponse(res)
    ? { type: res.headers.get('content-type'), text: await res.text() }
    : { type: res.headers['content-type'] ?? null, text: res.text }
  expect({ status: res.status, type }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) })
  const body = JSON.parse(text) as Record<string, unknown>
  expect(body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String), type: expect.any(String) })
  expectNoInternals(text)
  return body
}

function isFetchResponse(res: Response | SupertestResponse): res is Response {
  return typeof res.text === 'function'
}
