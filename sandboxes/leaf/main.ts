import { createLogger } from '../../src/infra/logger.js'
import { startLeafSandbox } from './server.js'

/*
 * The Leaf sandbox as a program, for the demo and compose. Env: LEAF_SANDBOX_PORT (4020),
 * LEAF_SANDBOX_HOST (127.0.0.1; 0.0.0.0 in a container), LEAF_USERNAME, LEAF_PASSWORD.
 */
const env = process.env
const port = Number(env.LEAF_SANDBOX_PORT ?? 4020)
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`leaf sandbox: LEAF_SANDBOX_PORT: not a port (got ${env.LEAF_SANDBOX_PORT})`)
  process.exit(1)
}
const logger = createLogger().child({ module: 'leaf-sandbox' })
const sandbox = await startLeafSandbox({
  port,
  host: env.LEAF_SANDBOX_HOST ?? '127.0.0.1',
  ...(env.LEAF_USERNAME && { username: env.LEAF_USERNAME }),
  ...(env.LEAF_PASSWORD && { password: env.LEAF_PASSWORD }),
  logger,
})
const user = sandbox.state.addUser({ externalId: 'demo-grower', name: 'Demo Grower', email: 'grower@example.com' })
logger.info({ url: sandbox.url, demoLeafUserId: user.id, externalId: user.externalId }, 'leaf sandbox listening')
// Plain stdout too, so scripts can pick the id up without parsing JSON.
console.log(`LEAF_API_URL=${sandbox.url}`)
console.log(`LEAF_DEMO_USER_ID=${user.id}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'leaf sandbox closing')
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  })
}
