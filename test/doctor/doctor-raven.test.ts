import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { doctorLine, parseDoctorJson, runDoctor, startDoctorWorld, type DoctorWorld } from '../helpers/kit/index.js'

// npm run doctor against the Raven sandbox: healthy, then each way an integrator gets Raven wrong.

let world: DoctorWorld
beforeAll(async () => {
  world = await startDoctorWorld()
})
afterAll(async () => {
  await world?.close()
})

describe('npm run doctor with a healthy configuration', () => {
  it('passes every check that can fail and exits 0', async () => {
    const run = await runDoctor(world.env)
    expect(run.code).toBe(0)
    expect(run.lines.filter((line) => line.startsWith('✗'))).toEqual([])
    for (const check of ['config', 'config.scopes', 'public.https', 'redis.reachable', 'redis.version', 'redis.eviction', 'raven.endpoints', 'raven.issuer', 'raven.client', 'raven.authorization', 'leaf.auth', 'leaf.token-expiry']) {
      doctorLine(run, '✓', check)
    }
    expect(doctorLine(run, '✓', 'raven.client')).toMatch(/invalid_grant/)
    expect(doctorLine(run, '✓', 'raven.authorization')).toMatch(/sign-in page/)
    // The test Redis keeps nothing on disk: a real warning, not a failure.
    expect(doctorLine(run, '!', 'redis.persistence')).toMatch(/neither AOF nor RDB.*appendonly yes/)
    expect(doctorLine(run, '!', 'leaf.alerts')).toMatch(/not checked: LEAF_ALERTS_SECRET is not set/)
    expect(run.stdout).toMatch(/\d+ checks: \d+ passed, \d+ warnings, 0 failed/)
  })

  it('prints the JSON array instead with --json, through npm run doctor', async () => {
    const run = await runDoctor(world.env, ['--', '--json'], ['npm', 'run', '--silent', 'doctor'])
    expect(run.code).toBe(0)
    const results = parseDoctorJson(run)
    expect(results.find((result) => result.check === 'raven.client')).toMatchObject({ result: 'pass' })
    expect(results.filter((result) => result.result === 'fail')).toEqual([])
  })

  it('neither obtains a Raven token nor creates a Leaf user or credential', async () => {
    const usersBefore = world.leaf.state.users.size
    const run = await runDoctor(world.env)
    expect(run.code).toBe(0)
    // The sandbox lists the codes it was sent next to the tokens it issued: only made-up codes, none exchanged.
    const seen = world.raven.stats.issuedValues()
    expect(seen.length).toBeGreaterThan(0)
    for (const value of seen) {
      expect(value).toMatch(/^doctor-invalid-code-/)
      expect(world.raven.stats.codeExchanged(value)).toBe(false)
    }
    expect(world.leaf.state.users.size).toBe(usersBefore)
    expect(world.leaf.state.credentials.size).toBe(0)
    const writes = world.leaf.state.requests.filter((entry) => entry.method !== 'GET' && entry.path !== '/api/authenticate')
    expect(writes).toEqual([])
  })
})

describe('npm run doctor when Raven is misconfigured', () => {
  it('names RAVEN_CLIENT_SECRET when the secret is wrong, and exits 1', async () => {
    const run = await runDoctor({ ...world.env, RAVEN_CLIENT_SECRET: `${world.env.RAVEN_CLIENT_SECRET} ` })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'raven.client')).toMatch(/invalid_client.*RAVEN_CLIENT_SECRET is wrong/)
  })

  it('says the redirect URI must be registered when Raven does not know it', async () => {
    const run = await runDoctor({ ...world.env, PUBLIC_BASE_URL: 'http://127.0.0.1:9' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'raven.authorization')).toMatch(/refused the redirect_uri http:\/\/127\.0\.0\.1:9\/connect\/raven\/callback.*ask Raven’s API support to register it/)
    // The client itself is fine: only the authorization request is refused.
    doctorLine(run, '✓', 'raven.client')
  })

  it('says which scopes Raven refused when it answers the callback with invalid_scope', async () => {
    // oidc-provider drops unknown scopes silently; Raven (IdentityServer) answers invalid_scope.
    world.raven.faults.set({ authorizeError: 'invalid_scope' })
    try {
      const run = await runDoctor({ ...world.env, RAVEN_SCOPES: 'openid offline_access payroll' })
      expect(run.code).toBe(1)
      expect(doctorLine(run, '✗', 'raven.authorization')).toMatch(/Raven refused RAVEN_SCOPES \(openid offline_access payroll\): invalid_scope/)
    } finally {
      world.raven.faults.reset()
    }
  })

  it('fails the scopes check when offline_access is missing', async () => {
    const run = await runDoctor({ ...world.env, RAVEN_SCOPES: 'openid profile' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'config.scopes')).toMatch(/lacks offline_access/)
  })

  it('gives the issuer the discovery document names when RAVEN_ISSUER is not it', async () => {
    world.raven.faults.set({ discovery: 'wrong_issuer' })
    try {
      const run = await runDoctor(world.env)
      expect(run.code).toBe(1)
      expect(doctorLine(run, '✗', 'raven.issuer')).toMatch(/says the issuer is https:\/\/attacker\.example, but RAVEN_ISSUER is .*: set RAVEN_ISSUER=https:\/\/attacker\.example/)
    } finally {
      world.raven.faults.reset()
    }
  })

  it('works from explicit endpoints and still confirms the issuer through discovery', async () => {
    const discovery = (await (await fetch(`${world.raven.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>
    const env = { ...world.env, RAVEN_AUTHORIZATION_ENDPOINT: discovery.authorization_endpoint, RAVEN_TOKEN_ENDPOINT: discovery.token_endpoint }
    const run = await runDoctor(env)
    expect(run.code).toBe(0)
    for (const check of ['raven.endpoints', 'raven.issuer', 'raven.client', 'raven.authorization']) doctorLine(run, '✓', check)
  })

  it('fails a token endpoint that hangs at the time limit and starts nothing more at Raven', async () => {
    world.raven.faults.set({ tokenDelayMs: 30_000 })
    try {
      const run = await runDoctor(world.env, ['--timeout', '1'])
      expect(run.code).toBe(1)
      doctorLine(run, '✓', 'raven.endpoints')
      expect(doctorLine(run, '✗', 'raven.client')).toMatch(/no answer within 1 s/)
      expect(doctorLine(run, '!', 'raven.authorization')).toMatch(/not checked: raven\.client got no answer in time/)
      // The other areas were not held up by Raven.
      doctorLine(run, '✓', 'leaf.auth')
    } finally {
      world.raven.faults.reset()
    }
  })

  it('reports a configuration error as a failed config line, not a crash', async () => {
    const run = await runDoctor({ ...world.env, RAVEN_ISSUER: 'http://raven.example.com/core' })
    expect(run.code).toBe(1)
    expect(doctorLine(run, '✗', 'config')).toMatch(/RAVEN_ISSUER: http:\/\/ is only allowed for loopback hosts \(got http:\/\/raven\.example\.com\/core\)/)
    expect(run.stderr).toBe('')
    expect(run.stdout).not.toMatch(/\bat .*\.ts:\d+/)
    expect(run.stdout).toMatch(/1 checks: 0 passed, 0 warnings, 1 failed\. Not ready.* checked once the configuration is valid/)
  })

  it('refuses an unknown argument with the usage and exit code 2', async () => {
    const run = await runDoctor(world.env, ['--pubic'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/unknown argument --pubic\nusage: npm run doctor -- \[--json\] \[--public\]/)
    expect(run.stdout).toBe('')
  })
})
