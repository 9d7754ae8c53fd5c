import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Redis } from 'ioredis'

import { freePort } from '../../setup/global-setup.js'
import { waitFor } from './wait.js'

/**
 * A one-node Redis Cluster owning every slot: enough to prove that multi-key commands and scripts stay
 * in one hash slot (a single node still refuses cross-slot access). Each clean-up is pushed on
 * `cleanups` for the caller's afterAll.
 */
export async function startOneNodeCluster(cleanups: Array<() => Promise<void> | void>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-cluster-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf'), '--dir', dir, '--save', '', '--appendonly', 'no']
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  )
  const admin = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => 100 })
  admin.on('error', () => undefined)
  cleanups.push(() => admin.disconnect())
  admin.connect().catch(() => undefined)
  await waitFor('the node', () => admin.status === 'ready', 10_000, 100)
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  await waitFor('cluster_state:ok', async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 10_000, 100)
  return port
}
