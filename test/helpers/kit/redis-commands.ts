// What the service asks of Redis while a test does something: every command a named client sends,
// and every command the scripts it runs execute (MONITOR shows those with the source `lua`). Meant
// for a Redis of the test's own, where no other system runs scripts.
import { Redis } from 'ioredis'

export interface RecordedCommand {
  /** Lower-case command name. */
  name: string
  /** The client's address, or `lua` for a command a script ran. */
  source: string
  args: string[]
}

/**
 * Runs `action` while MONITOR records, and returns the commands of the clients named `clientName`
 * (CLIENT SETNAME; the request-path client is `raven-connect`) and of scripts, in order.
 */
export async function recordRedisCommands(redisUrl: string, clientName: string, action: () => Promise<unknown>): Promise<RecordedCommand[]> {
  const admin = new Redis(redisUrl)
  const monitor = await admin.monitor()
  const seen: RecordedCommand[] = []
  const marker = `end-of-recording-${Date.now()}`
  let sawMarker: () => void = () => undefined
  const markerSeen = new Promise<void>((resolve) => (sawMarker = resolve))
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) sawMarker()
    seen.push({ name: (args[0] ?? '').toLowerCase(), source, args: args.slice(1) })
  })
  const probe = new Redis(redisUrl)
  try {
    await action()
    // MONITOR streams asynchronously: everything before the marker has arrived once the marker has.
    await probe.echo(marker)
    await markerSeen
    const clients = String(await probe.client('LIST'))
    const addresses = new Set(
      clients
        .split('\n')
        .filter((line) => new RegExp(`\\bname=${clientName}(\\s|$)`).test(line))
        .map((line) => /\baddr=(\S+)/.exec(line)?.[1] ?? ''),
    )
    return seen.filter((command) => command.source === 'lua' || addresses.has(command.source))
  } finally {
    monitor.disconnect()
    admin.disconnect()
    probe.disconnect()
  }
}
