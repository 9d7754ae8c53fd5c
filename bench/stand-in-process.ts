import { fork, type ChildProcess } from 'node:child_process'

import { HERE, settings } from './settings.js'

/** The Raven and Leaf stand-ins in their own process (stand-ins-main.ts), asked over IPC. */
export interface StandInProcess {
  ravenIssuer: string
  leafUrl: string
  ask(type: 'stats' | 'reset' | 'close'): Promise<unknown>
  child: ChildProcess
}

export async function startStandInProcess(): Promise<StandInProcess> {
  const child = fork(`${HERE}stand-ins-main.js`, [], {
    env: { ...process.env, BENCH_LEAF_TOKEN_LIFETIME_SECONDS: String(settings.leafTokenLifetimeSeconds) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const waiting = new Map<number, (value: unknown) => void>()
  let nextId = 1
  const ready = new Promise<{ ravenIssuer: string; leafUrl: string }>((resolve) => waiting.set(0, resolve as (value: unknown) => void))
  child.on('message', (message: { id: number; value: unknown }) => {
    waiting.get(message.id)?.(message.value)
    waiting.delete(message.id)
  })
  const urls = await ready
  return {
    ...urls,
    child,
    ask: (type) =>
      new Promise((resolve) => {
        const id = nextId++
        waiting.set(id, resolve)
        child.send({ id, type })
      }),
  }
}
