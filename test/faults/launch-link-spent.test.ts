import { randomBytes } from 'node:crypto'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { Redis } from 'ioredis'

import { hashToken } from '../../src/connect-links/token-store.js'
import { mainAttribute, useSystem } from '../helpers/kit/index.js'

// Issue #10 item 11: a Redis failure during launch after the link was consumed either gives the link
// back or says honestly that it is spent. The failure is Redis's own: the service signs in as an ACL
// user that may read browser sessions but not write them (NOPERM). A fresh browser's launch is one
// script that declares the session key, so Redis refuses the whole script and the link stays: the page
// says try again. A returning browser's launch takes the link first and then moves its session to a new
// id, which Redis refuses: the link is spent, and the page says so.
const user = `rc-no-sessions-${randomBytes(4).toString('hex')}`
const password = randomBytes(16).toString('hex')
let admin: Redis
beforeAll(async () => {
  admin = new Redis(process.env.REDIS_URL ?? '')
  await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~rc:cs:*', '~rc:state:*', '~rc:rl:*', '~rc:{*', '%R~rc:sess:*', '&*', '+@all')
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

describe('launch when Redis refuses the session write', () => {
  it('a fresh browser: Redis refuses the whole launch script, the link stays usable, and the page says try again', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const token = new URL(session.connectUrl).searchParams.get('session') ?? ''

    const answer = await system.browser().get(session.connectUrl)
    expect(answer.status).toBe(503)
    expect(mainAttribute(answer.body, 'data-raven')).toBe('error')
    expect(mainAttribute(answer.body, 'data-reason')).toBe('server_error')
    expect(answer.body).toContain('Nothing was changed')
    expect(answer.body).not.toContain('can no longer be used')
    expect(answer.body).not.toContain(token)
    expect(system.logs.some((line) => line.includes('launch failed before the connect link was spent') && line.includes('NOPERM'))).toBe(true)

    // What the page said is true: the link was not spent.
    expect(await admin.exists(`rc:cs:${hashToken(token)}`)).toBe(1)
  })

  it('a returning browser: the link was taken before Redis refused, and the page says it is spent and how to get a new one', async () => {
    const session = await system.createConnectSession({ leafUserId: system.newLeafUser() })
    const token = new URL(session.connectUrl).searchParams.get('session') ?? ''

    // Our cookie (a stale value): the launch goes express-session's way and regenerates the session id.
    const answer = await system.browser().get(session.connectUrl, { cookie: 'raven-connect.sid=s%3Astale.value' })
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
    // (This Redis refuses every fresh launch's session write, so the answer is the spent-link page again.)
    expect((await system.browser().get(session.connectUrl)).body).toContain('can no longer be used')
  })
})
