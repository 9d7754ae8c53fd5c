import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import request from 'supertest'

import { doctorLine, runDoctor, startDoctorWorld, startHangingServer, type DoctorWorld } from '../helpers/kit/index.js'
import { startSystem, type TestSystem } from '../helpers/system.js'

/*
 * npm run doctor -- --public: PUBLIC_BASE_URL answers, and an https request is seen as https by the
 * service. Here the service runs behind a TLS-terminating proxy (a self-signed certificate the
 * doctor trusts through NODE_EXTRA_CA_CERTS, as an operator would with a private CA), once with
 * TRUST_PROXY=1 and once without.
 */

let dir: string
let certPath: string
let proxy: Server
let proxyUrl: string
/** Where the proxy forwards to: switched between the two services. */
let upstream = ''
let world: DoctorWorld
let trusting: TestSystem
let distrusting: TestSystem

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'doctor-tls-'))
  certPath = join(dir, 'cert.pem')
  const keyPath = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
  proxy = createHttpsServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, (req, res) => {
    // What a load balancer does: TLS ends here, the request goes on in plain http with X-Forwarded-*.
    const target = new URL(req.url ?? '/', upstream)
    const forwarded = httpRequest(target, { method: req.method, headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forwarded.on('error', () => res.writeHead(502).end())
    req.pipe(forwarded)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  world = await startDoctorWorld({ publicBaseUrl: proxyUrl })
  trusting = await startSystem({ env: { TRUST_PROXY: '1' } })
  distrusting = await startSystem()
})

afterAll(async () => {
  await Promise.all([world?.close(), trusting?.close(), distrusting?.close()])
  proxy?.closeAllConnections()
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()))
  rmSync(dir, { recursive: true, force: true })
})

describe('GET /healthz', () => {
  it('says which protocol the request was seen with, and nothing else', async () => {
    const res = await request(distrusting.url).get('/healthz')
    expect(res.body).toEqual({ status: 'ok', protocol: 'http' })
    const behindProxy = await request(trusting.url).get('/healthz').set('X-Forwarded-Proto', 'https')
    expect(behindProxy.body).toEqual({ status: 'ok', protocol: 'https' })
  })
})

describe('npm run doctor -- --public', () => {
  const trustedCa = () => ({ ...world.env, NODE_EXTRA_CA_CERTS: certPath })

  it('passes behind a TLS proxy the service trusts, with every other check green too', async () => {
    upstream = trusting.url
    const run = await runDoctor({ ...trustedCa(), TRUST_PROXY: '1' }, ['--public'])
    expect(doctorLine(run, '✓', 'public.https')).toContain(proxyUrl)
    expect(doctorLine(run, '✓', 'public.healthz')).toContain(`${proxyUrl}/healthz answers`)
    expect(doctorLine(run, '✓', 'public.trust-proxy')).toMatch(/sees https requests as https: TRUST_PROXY trusts the TLS proxy/)
    expect(run.lines.filter((line) => line.startsWith('✗'))).toEqual([])
    expect(run.code).toBe(0)
  })

  it('fails and names TRUST_PROXY when the service sees the https request as http', async () => {
    upstream = distrusting.url
    const run = await runDoctor(trustedCa(), ['--public'])
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'public.trust-proxy')).toMatch(/reached the service as plain http.*Set TRUST_PROXY on the service .*here it is unset/)
  })

  it('fails when the certificate of PUBLIC_BASE_URL is not trusted', async () => {
    upstream = trusting.url
    const run = await runDoctor(world.env, ['--public'])
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'public.healthz')).toMatch(/TLS failed .*certificate is not trusted/)
    expect(doctorLine(run, '!', 'public.trust-proxy')).toMatch(/not checked/)
  })

  it('fails when nothing answers at PUBLIC_BASE_URL', async () => {
    const nobody = await startHangingServer()
    await nobody.close()
    const run = await runDoctor({ ...world.env, PUBLIC_BASE_URL: nobody.url }, ['--public'])
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'public.healthz')).toMatch(/connection refused/)
  })

  it('fails a plain-http PUBLIC_BASE_URL that is not loopback, without --public', async () => {
    const run = await runDoctor({ ...world.env, PUBLIC_BASE_URL: 'http://connect.example.com' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'public.https')).toMatch(/PUBLIC_BASE_URL is plain http \(http:\/\/connect\.example\.com\)/)
  })
})
