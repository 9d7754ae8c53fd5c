import { ConfigError, loadConfig, type Config } from '../config/load-config.js'
import { envSchema } from '../config/schema.js'
import { isLoopbackHost } from '../config/upstream-url.js'
import { parseRedisTarget } from '../infra/redis-url.js'
import { fail, pass, warn, type CheckResult, type Verdict } from './check.js'

/**
 * The configuration, read by the service's own `loadConfig`: one failed `config` line per bad
 * variable (its one-line message, never its value), or the checks a valid configuration still needs.
 */
export function checkConfiguration(env: Record<string, string | undefined>): { results: CheckResult[]; config?: Config } {
  let config: Config
  try {
    config = loadConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { results: err.problems.map((problem) => ({ check: 'config', ...fail(`${problem} (fix the environment; .env.example describes every variable)`) })) }
  }
  const set = Object.keys(envSchema.shape).filter((name) => (env[name] ?? '').trim() !== '').length
  return {
    config,
    results: [
      { check: 'config', ...pass(`every variable is valid (${set} set, the rest default)`) },
      { check: 'config.tls', ...checkTransport(config) },
      { check: 'config.scopes', ...checkScopes(config) },
    ],
  }
}

/**
 * https everywhere except loopback. loadConfig already refuses plain http for Raven, Leaf and the
 * webhook receiver; this adds what it accepts but production should not: Redis and the return
 * origins in clear text. PUBLIC_BASE_URL has its own line (public.https).
 */
function checkTransport(config: Config): Verdict {
  const problems: string[] = []
  const target = parseRedisTarget(config.redisUrl)
  const redisHosts = target.kind === 'standalone' ? [new URL(target.url).hostname] : target.kind === 'sentinel' ? target.sentinels.map((s) => s.host) : target.nodes.map((n) => n.host)
  const redisTls = target.kind === 'standalone' ? target.url.toLowerCase().startsWith('rediss:') : target.tls
  if (!redisTls && !redisHosts.every(isLoopbackHost)) {
    problems.push('REDIS_URL is not rediss:// (sessions and parked tokens cross the network in clear; fine only on a private network)')
  }
  const plainOrigins = config.returnToOrigins.filter((origin) => origin.startsWith('http:') && !isLoopbackHost(new URL(origin).hostname))
  if (plainOrigins.length > 0) problems.push(`RETURN_TO_ORIGINS has plain http origins (${plainOrigins.join(', ')}): use https`)
  if (problems.length > 0) return warn(problems.join('; '))
  return pass('Raven, Leaf and webhook URLs are https or loopback; Redis and the return origins too')
}

function checkScopes(config: Config): Verdict {
  const scopes = config.raven.scopes
  if (!scopes.includes('offline_access')) {
    return fail(`RAVEN_SCOPES (${scopes.join(' ')}) lacks offline_access: Raven would issue no refresh token and every connect would end with no_refresh_token; add offline_access`)
  }
  return pass(`RAVEN_SCOPES: ${scopes.join(' ')}`)
}
