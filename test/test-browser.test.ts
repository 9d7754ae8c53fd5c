// The cookie-jar browser the flow tests drive: it must keep cookies as a browser does (RFC 6265), or a
// test could pass a flow that a real browser would break.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

import { describe, expect, it } from '@jest/globals'

import { TestBrowser } from './helpers/browser.js'

describe('the test browser keeps cookies as a browser does', () => {
  it('honours Path, Max-Age deletion, host-only and Secure', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/set') {
        res.setHeader('set-cookie', ['a=1; Path=/app', 'b=2; Path=/', 'gone=x; Path=/', 'sec=3; Secure; Path=/'])
      } else if (req.url === '/delete') {
        res.setHeader('set-cookie', ['gone=; Max-Age=0; Path=/', 'b=old; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/'])
      }
      res.end(req.headers.cookie ?? '')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const browser = new TestBrowser()
      await browser.get(`${base}/set`)
      expect((await browser.get(`${base}/app/page`)).body).toBe('a=1; b=2; gone=x')
      expect((await browser.get(`${base}/application`)).body).toBe('b=2; gone=x')
      await browser.get(`${base}/delete`)
      expect((await browser.get(`${base}/app`)).body).toBe('a=1')
      expect(browser.cookieHeader(`http://localhost:${new URL(base).port}/app`)).toBe('')
      expect(browser.cookieHeader(`https://127.0.0.1/`)).toBe('sec=3')
      expect(browser.transcript()).toContain('set-cookie')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
