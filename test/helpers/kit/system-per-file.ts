// One system for a test file (or a describe block): started before its tests, the sandboxes' faults
// cleared after each test, closed after the last one.
import { afterAll, afterEach, beforeAll } from '@jest/globals'

import { startSystem, type SystemOptions, type TestSystem } from '../system.js'

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

export interface StandIn<T extends object> {
  /** Forwards every read and write to the current value (methods stay bound to it). */
  proxy: T
  current: T | undefined
  set(value: T | undefined): void
}

/** A value a beforeAll hook provides, behind a proxy that module-level code can name before it exists. */
export function standIn<T extends object>(what: string): StandIn<T> {
  const holder: StandIn<T> = {
    current: undefined,
    set(value) {
      holder.current = value
    },
    proxy: new Proxy({} as T, {
      get(_target, key) {
        const target = present()
        const found: unknown = Reflect.get(target, key, target)
        return typeof found === 'function' ? found.bind(target) : found
      },
      set: (_target, key, value) => Reflect.set(present(), key, value),
      has: (_target, key) => Reflect.has(present(), key),
    }),
  }
  const present = (): T => {
    if (holder.current === undefined) throw new Error(`${what} is used outside the tests that started it`)
    return holder.current
  }
  return holder
}
