import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Redis } from 'ioredis'

import { flowToCallback, outcomeOf } from '../helpers/kit/index.js'
import { startSystem, type TestSystem } from '../helpers/system.js'
import { startRedisServer, type ThrowawayRedis } from '../setup/global-setup.js'

// What one happy-path callback costs Redis, counted the way the bench counts it (INFO commandstats,
// commands inside scripts and MULTI one by one). A Redis of its own, so no other test file's traffic
// is counted, and no worker, so nothing in the background is either.
let redisServer: ThrowawayRedis
let admin: Redis
let system: TestSystem

beforeAll(async () => {
  redisServer = await startRedisServer()
  admin = new Redis(redisServer.url)
  system = await startSystem({ env: { REDIS_URL: redisServer.url }, durable: { worker: false } })
})
afterAll(async () => {
  await system.close()
  admin.disconnect()
  await redisServer.stop()
})

async function commandCalls(): Promise<Record<string, number>> {
  const calls: Record<string, number> = {}
  for (const match of (await admin.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls[match[1] as string] = Number(match[2])
  return calls
}

/** The commands Redis ran between two snapshots, by name, without the INFO that took the second one. */
function difference(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const spent: Record<string, number> = {}
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0) - (name === 'info' ? 1 : 0)
    if (delta > 0) spent[name] = delta
  }
  return spent
}

describe('Redis commands of one callback whose Leaf answers at once', () => {
  it('parks, delivers and finishes within a small fixed number of commands, session included', async () => {
    const costs: Array<Record<string, number>> = []
    for (let round = 0; round < 3; round += 1) {
      const flow = await flowToCallback(system)
      const before = await commandCalls()
      const answer = await flow.browser.get(flow.callbackUrl.href)
      const after = await commandCalls()
      expect(outcomeOf(answer).raven).toBe('connected')
      costs.push(difference(before, after))
      // The registry's entry was written by the counted callback (the finish script's step).
      expect(await system.service.registry.get(flow.leafUserId)).toMatchObject({ health: 'ok' })
    }
    const totals = costs.map((cost) => Object.values(cost).reduce((sum, calls) => sum + calls, 0))
    process.stdout.write(`redis commands per callback: ${JSON.stringify(totals)} ${JSON.stringify(costs[2])}\n`)
    // Fixed: the same every time (scripts loaded once, nothing that grows with history).
    expect(new Set(totals.slice(1)).size).toBe(1)
    // 19, counted one by one (what MONITOR shows):
    // - the delivery, 15: park (EVALSHA + HSET record, SET pending, SET lock NX, ZADD due) = 5; mark
    //   the post (HSET) = 1; finish (EVALSHA + MGET pending/lock, DEL, ZREM due) = 4, and in the same
    //   script the connection registry's first registration of the grower (HMGET the entry, HSET it,
    //   SET credential → grower, ZADD index, ZADD the `ok` set) = 5;
    // - the browser session, 4: GET the session, SET NX the state claim, SET the session, EXPIRE it.
    // Without the registry the delivery was 10 (14 in all); old main spent about 50. No job, no lock
    // script, no webhook job (webhooks are off here: with them on, the finish script adds one RPUSH),
    // no script bodies re-sent.
    expect(totals[2]).toBeLessThanOrEqual(19)
    expect(costs[2]).toMatchObject({ evalsha: 2, hmget: 1 })
    expect(Object.keys(costs[2] ?? {}).filter((name) => /^(eval|multi|exec|xadd|zscore|smembers)$/.test(name))).toEqual([])
  })
})
