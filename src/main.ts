import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config/load-config.js'
import { createBackgroundJobs } from './delivery/background-jobs.js'
import { createHardenedServer } from './http/server-hardening.js'
import { LeafClient } from './leaf/leaf-client.js'
import { createLogger, type Logger } from './ops/logger.js'
import { createMetrics } from './ops/metrics.js'
import { RavenClient } from './raven/raven-client.js'
import { checkEvictionPolicy, connectRedis, createRedis } from './session/redis.js'

/** How long in-flight requests (callbacks mid-exchange) may take to finish after SIGTERM. */
const SHUTDOWN_GRACE_MS = 15_000
/** How long running delivery/webhook jobs may take after that; unfinished ones go back to the queue. */
const JOBS_GRACE_MS = 10_000

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const logger = createLogger()
  installProcessHandlers(logger)
  const metrics = createMetrics()
  const redis = createRedis({ url: config.redisUrl, logger })
  try {
    await connectRedis(redis, 10_000)
    await checkEvictionPolicy(redis, logger)
  } catch (err) {
    // Keep starting: /readyz says "redis down" and requests get 503 until Redis answers.
    logger.error({ err }, 'Redis is not reachable yet; serving 503 until it is')
  }
  const raven = new RavenClient({ config, logger, metrics })
  raven.getConfiguration().catch(() => undefined)
  const leaf = new LeafClient({ apiUrl: config.leaf.apiUrl, auth: config.leaf.auth, logger, metrics })

  // Outbox delivery to Leaf and webhooks: a BullMQ queue on the same Redis, worked on every instance.
  const background = createBackgroundJobs({ config, leaf, logger, metrics })
  background.startWorker()

  let shuttingDown = false
  const app = buildApp({
    config,
    redis,
    logger,
    metrics,
    raven,
    leaf,
    delivery: background.delivery,
    events: background.events,
    isShuttingDown: () => shuttingDown,
  })
  // Tightened timeouts and parser-error answers live in http/server-hardening.ts (the tests use it too).
  const server = createHardenedServer(app)
  server.listen(config.port, () => {
    logger.info({ port: config.port, publicBaseUrl: config.publicBaseUrl }, 'raven-connect listening')
  })

  const shutdown = async (signal: string) => {
    if (shuttingDown) return
    shuttingDown = true
    logger.info({ signal }, 'shutting down: refusing new connections, finishing in-flight requests')
    // A last resort: with Redis gone, closing the queue worker or Redis itself can wait forever.
    setTimeout(() => {
      logger.error('shutdown did not complete in time; exiting')
      logger.flush()
      process.exit(1)
    }, SHUTDOWN_GRACE_MS + JOBS_GRACE_MS + 5_000)
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    const timedOut = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SHUTDOWN_GRACE_MS).unref())
    if ((await Promise.race([closed, timedOut])) === 'timeout') {
      logger.warn('in-flight requests did not finish in time; closing them')
      server.closeAllConnections()
    }
    // Then the jobs: the worker takes no new ones, running ones finish or go back to the queue.
    await background.close(JOBS_GRACE_MS)
    // Redis last: in-flight callbacks needed it until the very end.
    await redis.quit().catch(() => redis.disconnect())
    logger.info('bye')
    logger.flush()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
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
