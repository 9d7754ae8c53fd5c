import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/*
 * raven-connect as the demo runs it: the production entry point (src/main.ts, which reads its config
 * with loadConfig(process.env)) in a child process, run through tsx so no build step is needed.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ServiceProcess {
  child: ChildProcess
  /** Everything the service wrote, when started with output 'capture'. */
  output: string[]
  stop(): Promise<void>
}

export interface ServiceProcessOptions {
  env: Record<string, string>
  /** 'inherit' prints the service's log lines; 'capture' keeps them in `output` (tests). */
  output: 'inherit' | 'capture'
  /** Waits for GET {url}/readyz to answer 200. */
  url: string
  readyTimeoutMs?: number
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const output: string[] = []
  // Its own process group: a Ctrl-C in the terminal reaches only the demo, which stops the service
  // first (SIGTERM, graceful) and Redis last.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      // A grandchild (tsx's esbuild) may hold the pipes open a while longer; we are done reading.
      child.stdout?.destroy()
      child.stderr?.destroy()
      resolve(code)
    }),
  )
  // Detached children outlive a parent that dies without stopping them; this hook prevents that.
  const killOnExit = () => void child.kill('SIGKILL')
  process.once('exit', killOnExit)
  void exited.then(() => process.off('exit', killOnExit))

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    // main.ts allows in-flight requests 15 s; do not wait for ever on a stuck process.
    const timedOut = await Promise.race([exited.then(() => false), delay(20_000, undefined, { ref: false }).then(() => true)])
    if (timedOut) child.kill('SIGKILL')
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const said = output.join('').trim().split('\n').slice(-5).join('\n')
      throw new Error(`raven-connect exited with code ${child.exitCode} while starting${said ? `:\n${said}` : ' (see its output above)'}`)
    }
    const ready = await fetch(`${options.url}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (res) => res.status === 200,
      () => false,
    )
    if (ready) return { child, output, stop }
    await delay(200)
  }
  await stop()
  throw new Error(`raven-connect did not become ready at ${options.url}/readyz within ${options.readyTimeoutMs ?? 60_000} ms`)
}

/**
 * Listens on `port` on loopback; when that port is taken and `fallback` is set, on any free port.
 * Returns the server (no handler yet: the app is attached once every URL is known).
 */
export async function listenOn(port: number, fallback: boolean, host = '127.0.0.1'): Promise<{ server: Server; port: number; moved: boolean }> {
  try {
    const server = await tryListen(port, host)
    return { server, port: (server.address() as AddressInfo).port, moved: false }
  } catch (err) {
    if (!fallback || !isAddressInUse(err)) throw err
    const server = await tryListen(0, host)
    return { server, port: (server.address() as AddressInfo).port, moved: true }
  }
}

/** A port that is free now (for a process that listens itself); `port` when free, else any. */
export async function pickPort(port: number, fallback: boolean): Promise<{ port: number; moved: boolean }> {
  const { server, port: chosen, moved } = await listenOn(port, fallback)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { port: chosen, moved }
}

export function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE'
}

function tryListen(port: number, host: string): Promise<Server> {
  const server = createServer()
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server)
    })
  })
}
