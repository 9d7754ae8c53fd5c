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
