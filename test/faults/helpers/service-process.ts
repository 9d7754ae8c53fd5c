import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { waitFor } from '../../helpers/kit/wait.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface ServiceProcess {
  url: string
  child: ChildProcess
  /** Parsed JSON log records from stdout, in order. */
  records: Array<Record<string, unknown>>
  /** Raw stdout and stderr text, for leak and crash checks. */
  output(): { stdout: string; stderr: string }
  /** Resolves with the exit code and signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  waitUntilReady(timeoutMs?: number): Promise<void>
  /** Sends `signal` and waits for the exit (SIGKILL: at once). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * The real service as a child process (`node --import tsx src/main.ts`, the source form of
 * `npm start`), configured by environment variables only, as in production.
 */
export function spawnService(env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let partial = ''
  const records: Array<Record<string, unknown>> = []
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    stdout += text
    partial += text
    const lines = partial.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // not a log record
      }
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const url = `http://127.0.0.1:${env.PORT}`
  return {
    url,
    child,
    records,
    output: () => ({ stdout, stderr }),
    exited,
    async waitUntilReady(timeoutMs = 30_000) {
      const ready = async () => {
        if (child.exitCode !== null) throw new Error(`service exited early (${child.exitCode}): ${stderr.slice(0, 2000)}`)
        return fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
          (res) => res.status === 200,
          () => false,
        )
      }
      await waitFor(`the service on ${url} to be ready`, ready, timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}: ${stderr.slice(0, 2000)}`)
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Log records whose message matches, e.g. `logged(service, 'credential delivered to Leaf')`. */
export function logged(service: ServiceProcess, message: string): Array<Record<string, unknown>> {
  return service.records.filter((record) => typeof record.msg === 'string' && record.msg.includes(message))
}
