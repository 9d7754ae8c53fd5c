// The connection registry on Redis Cluster: its scripts and the delivery's finish script touch one
// hash slot (a single-node cluster still refuses cross-slot commands and script key access).
import { afterAll, describe, expect, it } from '@jest/globals'

import { createOutbox } from '../../src/delivery/outbox.js'
import { createJobQueue } from '../../src/jobs/queue.js'
import { createConnectionRegistry } from '../../src/registry/registry.js'
import { startOneNodeCluster, waitFor } from '../helpers/kit/index.js'
import { captureLogs } from '../helpers/log-capture.js'

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

describe('the connection registry on Redis Cluster', () => {
  it('registers in the finish script, applies an alert, lists, and forgets, all in one slot', async () => {
    const port = await startOneNodeCluster(cleanups)
    const jobs = createJobQueue({ redisUrl: `redis+cluster://127.0.0.1:${port}`, logger: captureLogs().logger, readyTimeoutMs: 5000 })
    cleanups.push(() => jobs.close(500))
    await waitFor('the cluster client', () => jobs.client().then(() => true, () => false), 10_000, 200)
    const outbox = createOutbox(jobs)
    const registry = createConnectionRegistry(jobs)

    const record = { deliveryId: 'dlv_reg', leafUserId: 'grower-1', connectSessionId: 'cs_1', sealedToken: 'v1.k.i.c.t', createdAt: Date.now(), attempted: false, replacedId: null }
    await outbox.park(record, { lockOwner: 'test', lockTtlMs: 1000, dueAt: Date.now() + 60_000 })
    const step = registry.registrationStep({ leafUserId: 'grower-1', credentialId: 'cred-1', createdTime: '2026-11-24T12:00:00.000000Z' })
    expect(await outbox.finish(record, { lockOwner: 'test', step })).toBe('finished')
    expect(await outbox.load('dlv_reg')).toBeNull()
    expect(await registry.get('grower-1')).toMatchObject({ credentialId: 'cred-1', health: 'ok' })

    // A delivery cancelled (disconnect) before its finish registers nothing.
    const cancelledRecord = { ...record, deliveryId: 'dlv_cancelled', leafUserId: 'grower-2' }
    await outbox.park(cancelledRecord, { lockOwner: 'test-2', lockTtlMs: 1000, dueAt: Date.now() + 60_000 })
    expect(await outbox.cancel('grower-2')).toBe(true)
    const cancelledStep = registry.registrationStep({ leafUserId: 'grower-2', credentialId: 'cred-2', createdTime: '2026-11-24T12:00:00.000000Z' })
    expect(await outbox.finish(cancelledRecord, { lockOwner: 'test-2', step: cancelledStep })).toBe('gone')
    expect(await registry.get('grower-2')).toBeNull()

    const change = { credentialId: 'cred-1', health: 'unauthenticated' as const, at: Date.parse('2026-11-24T13:00:00Z'), leafStatus: 'UNAUTHENTICATED', alertKey: 'k1' }
    expect(await registry.applyAlert(change)).toEqual({ outcome: 'applied', leafUserId: 'grower-1' })
    const multi = (await registry.client()).multi()
    registry.clearNotifyInMulti(multi, 'grower-1', 'k1')
    await multi.exec()
    expect(await registry.applyAlert(change)).toEqual({ outcome: 'stale', leafUserId: 'grower-1' })
    expect((await registry.list({ health: 'unauthenticated', limit: 10 })).connections.map((entry) => entry.leafUserId)).toEqual(['grower-1'])

    await registry.forget('grower-1')
    expect(await registry.get('grower-1')).toBeNull()
    expect(await registry.applyAlert({ ...change, alertKey: 'k2', at: change.at + 1 })).toEqual({ outcome: 'unknown', leafUserId: null })
  })
})
