// One system for a test file (or a describe block): started before its tests, the sandboxes' faults
// cleared after each test, closed after the last one.
import { afterAll, afterEach, beforeAll } from '@jest/globals'

import { startSystem, type SystemOptions, type TestSystem } from '../system.js'
import { standIn } from './stand-in.js'

/**
 * Registers the hooks and returns the system as a stand-in: use it inside tests and hooks as if it
 * were a plain constant (`system.url`). `options` may be a function, for values another beforeAll
 * provides first (a webhook receiver's URL).
 */
export function useSystem(options: SystemOptions | (() => SystemOptions) = {}): TestSystem {
  const settings = () => (typeof options === 'function' ? options() : options)
  const system = standIn<TestSystem>('the test system')
  beforeAll(async () => {
    system.set(await startSystem(settings()))
  })
  afterEach(() => {
    if (settings().startRaven !== false) system.current?.raven.faults.reset()
    system.current?.leaf.faults.reset()
  })
  afterAll(async () => {
    await system.current?.close()
    system.set(undefined)
  })
  return system.proxy
}
