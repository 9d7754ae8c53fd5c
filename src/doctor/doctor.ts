import { createLogger } from '../infra/logger.js'
import { pass, type Area, type CheckResult } from './check.js'
import { checkConfiguration } from './config-checks.js'
import { leafArea } from './leaf-checks.js'
import { publicArea } from './public-checks.js'
import { ravenArea } from './raven-checks.js'
import { redisArea } from './redis-checks.js'
import { runAreas } from './runner.js'
import { checkWebhookPing } from './webhook-check.js'

export interface DoctorOptions {
  /** `--public`: also reach PUBLIC_BASE_URL over the network (/healthz, TRUST_PROXY). */
  public: boolean
  /** Time limit of each check, in ms. */
  checkTimeoutMs: number
}

/**
 * Every go-live check against the environment `env`, read by the service's own loadConfig. With a
 * configuration error only the `config` lines come back: nothing else can be checked without it.
 */
export async function runDoctor(env: Record<string, string | undefined>, options: DoctorOptions): Promise<CheckResult[]> {
  const { results, config } = checkConfiguration(env)
  if (!config) return results
  // The service's clients log; the doctor's output is its report alone.
  const logger = createLogger({ level: 'silent' })
  const webhook = config.webhook
  const areas: Area[] = [
    publicArea(config, options.public),
    redisArea(config, logger, options.checkTimeoutMs),
    ravenArea(config, logger, options.checkTimeoutMs),
    leafArea(config, logger, config.leafAlertsSecret, options.checkTimeoutMs),
    async (run) => {
      if (webhook === undefined) run.report('webhooks.ping', pass('WEBHOOK_URL is not set: the service sends no webhooks'))
      else await run.check('webhooks.ping', (signal) => checkWebhookPing(webhook, signal))
    },
  ]
  return [...results, ...(await runAreas(areas, { checkTimeoutMs: options.checkTimeoutMs }))]
}
