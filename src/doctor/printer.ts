import { parseRedisTarget } from '../infra/redis-url.js'
import type { CheckResult, CheckStatus } from './check.js'

const MARKS: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗' }

/** The variables whose values are secrets (contract): never printed, whatever a check's detail says. */
const SECRET_VARIABLES = ['SESSION_SECRET', 'API_KEYS', 'RAVEN_CLIENT_SECRET', 'LEAF_PASSWORD', 'LEAF_API_TOKEN', 'TOKEN_ENCRYPTION_KEY', 'WEBHOOK_SECRET', 'LEAF_ALERTS_SECRET']

/**
 * The configured secrets, each comma-separated part on its own. The checks never put a secret in a
 * detail; this is the second line of defence for text that came from elsewhere (an error message).
 */
export function secretsOf(env: Record<string, string | undefined>): string[] {
  const values = SECRET_VARIABLES.flatMap((name) => (env[name] ?? '').split(',').map((part) => part.trim()))
  const redisPasswords = (() => {
    try {
      // Every REDIS_URL form (standalone, Sentinel, Cluster), as the service itself reads it.
      const target = parseRedisTarget(env.REDIS_URL ?? '')
      if (target.kind === 'standalone') return [decodeURIComponent(new URL(target.url).password)]
      return [target.password ?? '', target.kind === 'sentinel' ? (target.sentinelPassword ?? '') : '']
    } catch {
      return []
    }
  })()
  return [...values, ...redisPasswords].filter((value) => value.length >= 6)
}

export function maskSecrets(results: CheckResult[], secrets: string[]): CheckResult[] {
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...secrets].sort((a, b) => b.length - a.length)
  return results.map((result) => ({ ...result, detail: sorted.reduce((text, secret) => text.split(secret).join('[REDACTED]'), result.detail) }))
}

/** One line per check (`✓ name  detail`), then the summary. */
export function formatReport(results: CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.check.length))
  const lines = results.map((result) => `${MARKS[result.result]} ${result.check.padEnd(width)}  ${result.detail}`)
  return `${lines.join('\n')}\n\n${summaryOf(results)}\n`
}

export function summaryOf(results: CheckResult[]): string {
  const count = (status: CheckStatus) => results.filter((result) => result.result === status).length
  const [passed, warned, failed] = [count('pass'), count('warn'), count('fail')]
  const verdict = failed > 0 ? 'Not ready: fix every ✗ line, then run the doctor again.' : warned > 0 ? 'Ready, with warnings worth reading.' : 'Ready.'
  // A bad configuration stops the run before any upstream is tried (doctor.ts).
  const onlyConfig = failed > 0 && results.every((result) => result.check === 'config')
  const more = onlyConfig ? ' Redis, Raven, Leaf and the rest are checked once the configuration is valid.' : ''
  return `${results.length} checks: ${passed} passed, ${warned} warnings, ${failed} failed. ${verdict}${more}`
}

export function formatJson(results: CheckResult[]): string {
  return `${JSON.stringify(results.map(({ check, result, detail }) => ({ check, result, detail })), null, 2)}\n`
}

export function exitCodeOf(results: CheckResult[]): 0 | 1 {
  return results.some((result) => result.result === 'fail') ? 1 : 0
}
