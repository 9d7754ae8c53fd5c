import { startStandIns } from './stand-ins.js'

/*
 * The stand-ins in their own process (forked by run-bench with an IPC channel), so their answers are
 * not delayed by the load generator's event loop. Messages: 'stats', 'reset', 'close'.
 */
const lifetime = Number(process.env.BENCH_LEAF_TOKEN_LIFETIME_SECONDS ?? '60')
const standIns = await startStandIns({ leafTokenLifetimeSeconds: lifetime })

process.on('message', (message: { id: number; type: 'stats' | 'reset' | 'close' }) => {
  const reply = (value: unknown) => process.send?.({ id: message.id, value })
  if (message.type === 'stats') return reply(standIns.stats())
  if (message.type === 'reset') {
    standIns.reset()
    return reply(null)
  }
  void standIns.close().then(() => {
    reply(null)
    process.exit(0)
  })
})
process.on('disconnect', () => process.exit(0))
process.send?.({ id: 0, value: { ravenIssuer: standIns.ravenIssuer, leafUrl: standIns.leafUrl } })
