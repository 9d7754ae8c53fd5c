import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpus } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'

/** A server under test, running in its own process. */
export interface Target {
  name: string
  url: string
  pid: number
  /** Wall-clock start, for "authentications per token lifetime". */
  startedAt: number
  pinned: boolean
  stop(): Promise<void>
}

/** The server gets core 1 to itself when taskset exists and there are two cores or more. */
export function canPin(): boolean {
  return cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0
}

/**
 * Starts `node <entry>` with `env` (pinned to core 1 when possible), output discarded (logging still
 * costs what it costs: serialization and the write), and waits until `readyPath` answers 200.
 */
export async function startTarget(name: string, entry: string, env: Record<string, string>, url: string, readyPath: string, nodeArgs: string[] = []): Promise<Target> {
  const pinned = canPin()
  const command = pinned ? 'taskset' : process.execPath
  const args = pinned ? ['-c', '1', process.execPath, ...nodeArgs, entry] : [...nodeArgs, entry]
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000)
  })
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${stderr}`))))
  exited.catch(() => undefined)
  await Promise.race([waitReady(url + readyPath), exited])
  return {
    name,
    url,
    pid: child.pid as number,
    startedAt: Date.now(),
    pinned,
    stop: () => stopChild(child),
  }
}

async function waitReady(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      const res = await fetch(url)
      await res.text()
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await delay(100)
  }
  throw new Error(`${url} did not answer 200 within 20 s`)
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}
