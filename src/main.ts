import { compose } from './compose.js'
import { ConfigError, loadConfig, type Config } from './config/load-config.js'
import { SERVER_LIMITS, createHardenedServer } from './http/server-hardening.js'
import { settleWithin } from './infra/async.js'
import { createLogger, type Logger } from './infra/logger.js'
import { checkEvictionPolicy, connectRedis } from './infra/redis.js'

/** How long in-flight requests (callbacks mid-exchange) may take to finish after SIGTERM. */
const SHUTDOWN_GRACE_MS = 15_000
/** How long running delivery/webhook jobs may take after that; unfinished ones go back to the queue. */
const JOBS_GRACE_MS = 10_000

/** The process: configuration, the one composition, the listener, signals and the shutdown order. */
async function main(): Promise<void> {
  const config = loadConfigOrExit()
  const logger = createLogger()
  installProcessHandlers(logger)
  const service = compose(config, { logger })
  try {
    await connectRedis(service.redis, 10_000)
    await checkEvictionPolicy(service.redis, logger)
  } catch (err) {
    // Keep starting: /readyz says "redis down" and requests get 503 until Redis answers.
    logger.error({ err }, 'Redis is not reachable yet; serving 503 until it is')
  }
  service.raven.getConfiguration().catch(() => undefined)
  service.startWorker()

  // Tightened timeouts and parser-error answers live in http/server-hardening.ts (the tests use it too).
  const server = createHardenedServer(service.app, SERVER_LIMITS, config.pages)
  server.listen(config.port, () => {
    logger.info({ port: config.port, publicBaseUrl: config.publicBaseUrl }, 'raven-connect listening')
  })

  let shuttingDown = false
  const shutdown = async (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    service.beginShutdown()
    logger.info({ signal }, 'shutting down: refusing new connections, finishing in-flight requests')
    // A last resort: with Redis gone, closing the queue worker or Redis itself can wait forever.
    setTimeout(() => {
      logger.error('shutdown did not complete in time; exiting')
      logger.flush()
      process.exit(1)
    }, SHUTDOWN_GRACE_MS + JOBS_GRACE_MS + 5_000)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    if ((await settleWithin(closed, SHUTDOWN_GRACE_MS)) === 'timeout') {
      logger.warn('in-flight requests did not finish in time; closing them')
      server.closeAllConnections()
    }
    // Then the jobs: the worker takes no new ones, running ones finish or go back to the queue.
    await service.stopBackground(JOBS_GRACE_MS)
    // Redis last: in-flight callbacks needed it until the very end.
    await service.closeRedis()
    logger.info('bye')
    logger.flush()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

/** A bad environment stops the process before it listens, with one line per variable. */
function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
}

function installProcessHandlers(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection')
  })
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting')
    logger.flush()
    process.exit(1)
  })
}

await main()
