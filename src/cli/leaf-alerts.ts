import { pathToFileURL } from 'node:url'

import { ConfigError, loadConfig, type Config } from '../config/load-config.js'
import { createLogger } from '../infra/logger.js'
import { LeafClient, isLeafError } from '../leaf/client.js'
import { registerAlertsWebhook, registrationStatus, removeAlertsWebhook } from '../leaf-alerts/registration.js'

/*
 * npm run leaf-alerts -- register [--replace] | status | remove
 * (in the production image: node dist/cli/leaf-alerts.js register …)
 *
 * Manages the Leaf Alerts webhook that points at {PUBLIC_BASE_URL}/leaf/alerts, with the production
 * environment. Prints URLs, ids and events only: never LEAF_ALERTS_SECRET or a Leaf credential.
 * Exit 0 when done (or nothing to do), 1 when something is in the way or failed, 2 on bad usage.
 */

const USAGE = 'usage: leaf-alerts register [--replace] | status | remove'

export async function runLeafAlertsCommand(args: string[], env: Record<string, string | undefined>, out: (line: string) => void): Promise<number> {
  const [command, ...flags] = args
  const unknownFlag = flags.find((flag) => flag !== '--replace' || command !== 'register')
  if (!command || !['register', 'status', 'remove'].includes(command) || unknownFlag !== undefined) {
    out(USAGE)
    return 2
  }
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) {
      out(err.message)
      return 1
    }
    throw err
  }
  const leaf = new LeafClient({ apiUrl: config.leaf.apiUrl, auth: config.leaf.auth, logger: createLogger({ level: 'silent' }) })
  try {
    if (command === 'status') return await status(leaf, config, out)
    if (command === 'remove') {
      const removed = await removeAlertsWebhook(leaf, config.publicBaseUrl)
      if (removed.length === 0) out('nothing to remove: no Leaf Alerts webhook points at this service')
      for (const webhook of removed) out(`removed webhook ${webhook.id} (${webhook.url})`)
      return 0
    }
    if (config.leafAlertsSecret === undefined) {
      out('LEAF_ALERTS_SECRET is not set: the service would answer Leaf with 404; set it, then register')
      return 1
    }
    const result = await registerAlertsWebhook(leaf, {
      publicBaseUrl: config.publicBaseUrl,
      secret: config.leafAlertsSecret,
      replace: flags.includes('--replace'),
    })
    if (result.result === 'already_registered') {
      out(`already registered: ${result.status.url} receives ${ALL_EVENTS(result.status.ours)}; nothing changed`)
      return 0
    }
    if (result.result === 'held_by_other') {
      for (const webhook of result.blocking) {
        out(`event ${webhook.events.join(', ')} is held by another webhook: ${webhook.url} (id ${webhook.id})`)
      }
      out('left it alone; run again with --replace to delete it and register this service instead')
      return 1
    }
    for (const webhook of result.replaced) out(`deleted webhook ${webhook.id} (${webhook.url}), which held ${webhook.events.join(', ')}`)
    out(`registered: ${result.webhook.url} receives ${result.webhook.events.join(', ')} (webhook ${result.webhook.id})`)
    return 0
  } catch (err) {
    out(`Leaf Alerts ${command} failed: ${isLeafError(err) ? err.message : 'unexpected error'}`)
    return 1
  }
}

async function status(leaf: LeafClient, config: Config, out: (line: string) => void): Promise<number> {
  const current = await registrationStatus(leaf, config.publicBaseUrl, { secret: config.leafAlertsSecret })
  if (current.ours.length === 0) out(`not registered: no Leaf Alerts webhook points at ${current.url}`)
  for (const webhook of current.ours) out(`registered: ${webhook.url} receives ${webhook.events.join(', ') || 'no events'} (webhook ${webhook.id})`)
  for (const webhook of current.wrongSecret) out(`webhook ${webhook.id} was registered with another secret than LEAF_ALERTS_SECRET: run register to replace it`)
  for (const webhook of current.blocking) out(`held by another webhook: ${webhook.events.join(', ')} → ${webhook.url} (id ${webhook.id})`)
  if (config.leafAlertsSecret === undefined) out('LEAF_ALERTS_SECRET is not set: POST /leaf/alerts answers 404')
  return current.complete ? 0 : 1
}

const ALL_EVENTS = (webhooks: { events: string[] }[]) => [...new Set(webhooks.flatMap((webhook) => webhook.events))].join(', ')

// Run as a program (not when a test imports it).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runLeafAlertsCommand(process.argv.slice(2), process.env, (line) => console.log(line)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`leaf-alerts: ${err instanceof Error ? err.message : 'unexpected error'}`)
      process.exit(1)
    },
  )
}
