/**
 * One Redis write that another module's atomic step runs for it, only when that step succeeds: e.g.
 * the delivery's finish script records a webhook event (and, later, the connection registry's entry)
 * exactly when the delivery ends, never when it was cancelled meanwhile. Data, not a callback, so the
 * step can run it inside its own Lua script in the same round trip.
 *
 * The key must share the step's Redis Cluster hash slot: build it under the job prefix (infra/keys.ts,
 * `{jobs}` hash tag).
 */
export interface AtomicWrite {
  command: AtomicWriteCommand
  key: string
  args: string[]
}

/** The commands a step may be asked to run: writes only, nothing that reads or blocks. */
export type AtomicWriteCommand = 'SET' | 'DEL' | 'HSET' | 'HDEL' | 'RPUSH' | 'SADD' | 'SREM' | 'ZADD' | 'ZREM' | 'PEXPIRE'

/**
 * A conditional change another module's atomic step runs for it, after its own writes and only when
 * it succeeds, for a change that must read before it writes (the connection registry's REGISTER: an
 * older credential never replaces a newer one), which AtomicWrites cannot say.
 *
 * `lua` is the body of a Lua function of `K` (its keys, in the order of `keys`) and `A` (its args):
 * the owner builds its standalone script from the same body (`standaloneScript`), so the logic has one
 * copy. `name` identifies the body (one name, one body): the step that runs it loads it once under a
 * name of its own (EVALSHA per call). Keys share the step's hash slot, as for AtomicWrite.
 */
export interface AtomicStep {
  name: string
  lua: string
  keys: string[]
  args: string[]
}

/** A step body as a script of its own: its keys are KEYS, its args ARGV. */
export function standaloneScript(stepLua: string): string {
  return `${stepFunction(stepLua)}\nreturn step(KEYS, ARGV)`
}

/** A step body as the local Lua function `step(K, A)`, for a script to call where it needs it. */
export function stepFunction(stepLua: string): string {
  return `local function step(K, A)\n${stepLua}\nend`
}
