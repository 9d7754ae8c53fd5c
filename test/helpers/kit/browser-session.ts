// The browser session as Redis holds it (`rc:sess:<id>`), for tests that inspect or age it the way
// time, a second browser or an attacker would.
import type { TestBrowser } from '../browser.js'
import type { TestSystem } from '../system.js'

/** Redis keys matching `pattern` (SCAN, not KEYS, so a large database is not blocked). */
export async function redisKeys(system: Pick<TestSystem, 'redis'>, pattern: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await system.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** The session id inside a signed express-session cookie value (`s:<id>.<signature>`). */
export function sessionIdOf(cookieValue: string): string {
  const decoded = decodeURIComponent(cookieValue)
  return decoded.slice(2, decoded.lastIndexOf('.'))
}

/** The value of the session cookie `browser` holds for the service ('' when it holds none). */
export function sessionCookieOf(browser: TestBrowser, system: Pick<TestSystem, 'url'>): string {
  return browser.cookiesFor(system.url).find((cookie) => cookie.name === 'raven-connect.sid')?.value ?? ''
}

/** Makes every flow of the browser's session older by `ms` in Redis, as that much waiting would. */
export async function ageFlows(system: Pick<TestSystem, 'url' | 'redis'>, browser: TestBrowser, ms: number): Promise<void> {
  const key = `rc:sess:${sessionIdOf(sessionCookieOf(browser, system))}`
  const stored = JSON.parse((await system.redis.get(key)) ?? '{}') as { flows: Record<string, { createdAt: number }> }
  for (const record of Object.values(stored.flows)) record.createdAt -= ms
  await system.redis.set(key, JSON.stringify(stored), 'KEEPTTL')
}
