import { expect } from '@jest/globals'

import { LeafError } from '../../../src/leaf/errors.js'

/** The LeafError a Leaf client call rejects with (fails the test when it resolves or throws another). */
export async function leafErrorOf(promise: Promise<unknown>): Promise<LeafError> {
  const err = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(err).toBeInstanceOf(LeafError)
  return err as LeafError
}
