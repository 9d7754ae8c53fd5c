import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import type { Demo } from '../../sandboxes/demo/run-demo.js'
import { doctorLine, runDoctor, startIsolatedDemo } from '../helpers/kit/index.js'

// What a new user sees: `npm run demo`'s own environment, the service running, the doctor all green.

let demo: Demo
beforeAll(async () => {
  demo = await startIsolatedDemo()
}, 60_000)
afterAll(async () => {
  await demo?.close()
})

describe('npm run doctor -- --public with the demo configuration', () => {
  it('fails nothing, reaches the running service and exits 0', async () => {
    const run = await runDoctor(demo.serviceEnv, ['--public'])
    expect(run.lines.filter((line) => line.startsWith('✗'))).toEqual([])
    expect(run.code).toBe(0)
    for (const check of ['config', 'public.https', 'public.healthz', 'public.trust-proxy', 'redis.reachable', 'raven.issuer', 'raven.client', 'raven.authorization', 'leaf.auth', 'leaf.token-expiry', 'leaf.alerts', 'webhooks.ping']) {
      doctorLine(run, '✓', check)
    }
    expect(doctorLine(run, '✓', 'public.healthz')).toContain(`${demo.serviceUrl}/healthz answers`)
    // The demo registers its alerts webhook at the Leaf sandbox, as `npm run leaf-alerts -- register` would.
    expect(doctorLine(run, '✓', 'leaf.alerts')).toContain(`to ${demo.serviceUrl}/leaf/alerts`)
  })
})
