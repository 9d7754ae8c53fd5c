import { expect } from '@jest/globals'
import type { Response } from 'supertest'

/** Asserts an RFC 9457 problem+json answer with the contract's shape and a stable code. */
export function expectProblem(res: Response, status: number, code: string): void {
  expect(res.status).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = JSON.parse(res.text) as Record<string, unknown>
  expect(body).toMatchObject({ status, code })
  expect(typeof body.type).toBe('string')
  expect(typeof body.title).toBe('string')
  expect(typeof body.detail).toBe('string')
  expect(res.text).not.toMatch(/\bat [\w.<>]+ \(|node_modules|Error:/)
}
