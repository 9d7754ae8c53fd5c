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
