// A TLS-terminating load balancer in front of the service, but TRUST_PROXY not set: PUBLIC_BASE_URL is
// https while every request arrives as plain http. The launch must not spend the grower's link on a
// flow whose Secure cookie can never be set; it says the service is misconfigured and names the fix.
import { describe, expect, it } from '@jest/globals'

import { hashToken } from '../src/connect-links/token-store.js'
import { mainAttribute, useSystem } from './helpers/kit/index.js'

/** The service believes it is served at https://…, the test talks plain http to it (no TRUST_PROXY). */
const system = useSystem(() => ({ env: { PUBLIC_BASE_URL: 'https://connect.example.test' } }))
/** The same, with the load balancer trusted: X-Forwarded-Proto says https. */
const trusted = useSystem(() => ({ env: { PUBLIC_BASE_URL: 'https://connect.example.test', TRUST_PROXY: 'loopback' } }))

/** The connect token of a new link, and its launch URL on the plain-http listener. */
async function newLink(target: typeof system): Promise<{ token: string; launchUrl: string }> {
  const { connectUrl } = await target.createConnectSession({ leafUserId: target.newLeafUser() })
  const token = new URL(connectUrl).searchParams.get('session') ?? ''
  return { token, launchUrl: `${target.url}/connect/raven?session=${encodeURIComponent(token)}` }
}

const linkUnspent = async (target: typeof system, token: string) => (await target.redis.exists(`rc:cs:${hashToken(token)}`)) === 1

describe('GET /connect/raven behind a TLS load balancer without TRUST_PROXY', () => {
  it('answers a 5xx page saying the service is misconfigured, leaves the link unspent and logs one error naming TRUST_PROXY', async () => {
    const { token, launchUrl } = await newLink(system)
    const logsBefore = system.logs.length
    const res = await fetch(launchUrl, { redirect: 'manual' })
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.headers.get('set-cookie')).toBeNull()
    const page = await res.text()
    expect(mainAttribute(page, 'data-raven')).toBe('error')
    expect(mainAttribute(page, 'data-reason')).toBe('server_error')
    expect(page).toContain('misconfigured')
    expect(page).not.toContain(token)

    expect(await linkUnspent(system, token)).toBe(true)
    const errors = system.logs.slice(logsBefore).map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level >= 50)
    expect(errors).toHaveLength(1)
    expect(errors[0]?.msg).toContain('TRUST_PROXY')
    expect(system.logs.slice(logsBefore).join('\n')).not.toContain(token)
    // Nothing went to Raven either.
    expect(system.raven.stats.authorizationRequests).toBe(0)
  })

  it('starts the flow when the load balancer is trusted and says https (X-Forwarded-Proto)', async () => {
    const { token, launchUrl } = await newLink(trusted)
    const res = await fetch(launchUrl, { redirect: 'manual', headers: { 'X-Forwarded-Proto': 'https' } })
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure/i)
    expect(await linkUnspent(trusted, token)).toBe(false)
  })
})
