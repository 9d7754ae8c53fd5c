import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Redis } from 'ioredis'

import { hashToken } from '../../src/connect-links/token-store.js'
import { mainAttribute, useSystem } from '../helpers/kit/index.js'

// Issue #10 item 11: a Redis failure during launch after the link was consumed either gives the link
// back or says honestly that it is spent. The failure is Redis's own: the service signs in as an ACL
// user that may read and write everything except browser sessions, so the link's GETDEL succeeds and
// the session write that follows is refused (NOPERM).
const user = `rc-no-sessions-${randomBytes(4).toString('hex')}`
const password = randomBytes(16).toString('hex')
let admin: Redis
beforeAll(async () => {
  admin = new Redis(process.env.REDIS_URL ?? '')
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~rc:cs:*', '~rc:state:*', '~rc:rl:*', '~rc:{*', '&*', '+@all')
})
const system = useSystem(() => {
  const url = new URL(process.env.REDIS_URL ?? '')
  url.username = user
  url.password = password
  return { env: { REDIS_URL: url.href } }
})
afterAll(async () => {
  await admin.call('ACL', 'DELUSER', user)
  admin.disconnect()
})

describe('launch when Redis fails after the connect link was spent', () => {
  it('says the link is spent and how to get a new one, and the link is indeed spent', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const token = new URL(session.connectUrl).searchParams.get('session') ?? ''
    const browser = system.browser()

    const answer = await browser.get(session.connectUrl)
    expect(answer.status).toBe(503)
    expect(answer.headers.get('content-type')).toContain('text/html')
    expect(mainAttribute(answer.body, 'data-raven')).toBe('error')
    expect(mainAttribute(answer.body, 'data-reason')).toBe('server_error')
    expect(answer.body).toContain('can no longer be used')
    expect(answer.body).toContain('fresh link')
    expect(answer.body).not.toContain('Nothing was changed')
    expect(answer.body).not.toContain(token)
    expect(system.logs.some((line) => line.includes('launch failed after the connect link was spent') && line.includes('NOPERM'))).toBe(true)

    // What the page said is true: the link is gone, and opening it again says so.
    expect(await admin.exists(`rc:cs:${hashToken(token)}`)).toBe(0)
    expect((await system.browser().get(session.connectUrl)).status).toBe(410)
  })
})
