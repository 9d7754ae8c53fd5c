import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

import { describe, expect, it } from '@jest/globals'

import { ConfigError, loadConfig } from '../src/config/load-config.js'
import { envSchema } from '../src/config/schema.js'

const KEY = Buffer.alloc(32, 7)
const valid = {
  PUBLIC_BASE_URL: 'https://connect.example.com',
  SESSION_SECRET: 'a'.repeat(40),
  API_KEYS: 'k'.repeat(24),
  RAVEN_ISSUER: 'https://auth.example.com/core',
  RAVEN_CLIENT_ID: 'client',
  RAVEN_CLIENT_SECRET: 'secret',
  LEAF_USERNAME: 'owner@example.com',
  LEAF_PASSWORD: 'pw',
  TOKEN_ENCRYPTION_KEY: KEY.toString('base64'),
}

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n')
    throw err
  }
  return []
}

describe('loadConfig', () => {
  it('loads a valid environment with the contract defaults', () => {
    const config = loadConfig(valid)
    expect(config.port).toBe(3000)
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379')
    expect(config.redirectUri).toBe('https://connect.example.com/connect/raven/callback')
    expect(config.secureCookies).toBe(true)
    expect(config.raven.scopes).toEqual(['openid', 'offline_access'])
    expect(config.raven.tokenAuthMethod).toBe('client_secret_basic')
    expect(config.raven.responseMode).toBe('query')
    expect(config.leaf.apiUrl).toBe('https://api.withleaf.io')
    expect(config.connectSessionTtlSeconds).toBe(900)
    expect(config.rateLimitPerMinute).toBe(120)
    expect(config.trustProxy).toBe(false)
    expect(config.returnToOrigins).toEqual([])
    expect(config.webhook).toBeUndefined()
    expect(config.tokenEncryptionKey.equals(KEY)).toBe(true)
  })

  it.each(['PUBLIC_BASE_URL', 'SESSION_SECRET', 'API_KEYS', 'RAVEN_CLIENT_ID', 'RAVEN_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY', 'LEAF_PASSWORD'])(
    'names %s in one line when it is missing',
    (name) => {
      const lines = problems({ ...valid, [name]: undefined })
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^config: ${name}: `))
    },
  )

  it('needs RAVEN_ISSUER or both explicit endpoints', () => {
    expect(problems({ ...valid, RAVEN_ISSUER: undefined })).toEqual([
      'config: RAVEN_ISSUER: is required (or RAVEN_AUTHORIZATION_ENDPOINT and RAVEN_TOKEN_ENDPOINT)',
    ])
    expect(problems({ ...valid, RAVEN_ISSUER: undefined, RAVEN_TOKEN_ENDPOINT: 'https://auth.example.com/token' })[0]).toMatch(
      /^config: RAVEN_AUTHORIZATION_ENDPOINT: /,
    )
    const explicit = loadConfig({
      ...valid,
      RAVEN_ISSUER: 'https://auth.agsync.com/core',
      RAVEN_AUTHORIZATION_ENDPOINT: 'https://auth.agsync.com/core/connect/authorize',
      RAVEN_TOKEN_ENDPOINT: 'https://auth.agsync.com/core/connect/token',
    })
    expect(explicit.raven.endpoints).toMatchObject({ kind: 'explicit', issuer: 'https://auth.agsync.com/core', revocationEndpoint: undefined })
  })

  it.each(['lb.example.com', '10.0.0.0/33', 'loopback, 10.0.0.1/8/8', '-1', '1.5', 'loopback,,10.0.0.1'])(
    'refuses TRUST_PROXY %j with one config line, not a stack trace at start',
    (value) => {
      const lines = problems({ ...valid, TRUST_PROXY: value })
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^config: TRUST_PROXY: expected true, false, a hop count, or comma-separated addresses/)
    },
  )

  it.each([
    ['1', 1],
    ['true', true],
    ['false', false],
    ['loopback, 10.0.0.0/8, 192.168.0.0/255.255.0.0, fd00::/8, 2001:db8::1', 'loopback, 10.0.0.0/8, 192.168.0.0/255.255.0.0, fd00::/8, 2001:db8::1'],
  ])('accepts TRUST_PROXY %j', (value, expected) => {
    expect(loadConfig({ ...valid, TRUST_PROXY: value }).trustProxy).toEqual(expected)
  })

  it('needs RAVEN_ISSUER with explicit endpoints when openid is requested, and never guesses it from an endpoint', () => {
    const endpoints = {
      RAVEN_AUTHORIZATION_ENDPOINT: 'https://auth.agsync.com/core/connect/authorize',
      RAVEN_TOKEN_ENDPOINT: 'https://auth.agsync.com/core/connect/token',
    }
    expect(problems({ ...valid, RAVEN_ISSUER: undefined, ...endpoints })).toEqual([
      'config: RAVEN_ISSUER: is required with explicit endpoints when RAVEN_SCOPES includes openid (the issuer the ID token names, e.g. https://auth.agsync.com/core)',
    ])
    expect(problems({ ...valid, RAVEN_ISSUER: undefined, RAVEN_SCOPES: 'profile openid offline_access', ...endpoints })).toHaveLength(1)
    // Without openid there is no ID token to check: the endpoints alone are enough.
    const plainOAuth = loadConfig({ ...valid, RAVEN_ISSUER: undefined, RAVEN_SCOPES: 'agsync offline_access', ...endpoints })
    expect(plainOAuth.raven.endpoints).toMatchObject({ kind: 'explicit', issuer: undefined })
  })

  it.each([
    ['RAVEN_ISSUER', 'http://raven.example.com'],
    ['LEAF_API_URL', 'http://api.withleaf.io'],
    ['RAVEN_ISSUER', 'http://127.0.0.1.evil.example'],
    ['RAVEN_ISSUER', 'http://10.0.0.5'],
    ['LEAF_API_URL', 'ftp://api.withleaf.io'],
    ['LEAF_API_URL', 'https://user:pw@api.withleaf.io'],
  ])('refuses %s=%s', (name, value) => {
    const lines = problems({ ...valid, [name]: value })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^config: ${name}: `))
  })

  it.each(['http://localhost:4010', 'http://127.0.0.1:4010', 'http://127.8.9.10', 'http://[::1]:4010'])('accepts the loopback upstream %s', (url) => {
    expect(problems({ ...valid, RAVEN_ISSUER: url, LEAF_API_URL: url })).toEqual([])
  })

  it('checks TOKEN_ENCRYPTION_KEY length and accepts base64url', () => {
    expect(problems({ ...valid, TOKEN_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })[0]).toBe(
      'config: TOKEN_ENCRYPTION_KEY: must decode to exactly 32 bytes (got 16)',
    )
    expect(problems({ ...valid, TOKEN_ENCRYPTION_KEY: 'not base64 !' })[0]).toMatch(/^config: TOKEN_ENCRYPTION_KEY: must be base64/)
    const urlSafe = Buffer.alloc(32, 0xfb).toString('base64url')
    expect(loadConfig({ ...valid, TOKEN_ENCRYPTION_KEY: urlSafe }).tokenEncryptionKey.equals(Buffer.alloc(32, 0xfb))).toBe(true)
  })

  it('refuses malformed values with the variable name', () => {
    expect(problems({ ...valid, PORT: 'eighty' })[0]).toMatch(/^config: PORT: /)
    expect(problems({ ...valid, PORT: '70000' })[0]).toMatch(/^config: PORT: /)
    expect(problems({ ...valid, RAVEN_TOKEN_AUTH_METHOD: 'private_key_jwt' })[0]).toMatch(/^config: RAVEN_TOKEN_AUTH_METHOD: /)
    expect(problems({ ...valid, RAVEN_RESPONSE_MODE: 'fragment' })[0]).toMatch(/^config: RAVEN_RESPONSE_MODE: /)
    expect(problems({ ...valid, PUBLIC_BASE_URL: 'https://connect.example.com/path' })[0]).toMatch(/^config: PUBLIC_BASE_URL: /)
    expect(problems({ ...valid, RETURN_TO_ORIGINS: 'https://app.example.com/path' })[0]).toMatch(/^config: RETURN_TO_ORIGINS: /)
    expect(problems({ ...valid, REDIS_URL: 'http://127.0.0.1:6379' })[0]).toMatch(/^config: REDIS_URL: /)
    expect(problems({ ...valid, SESSION_SECRET: 'short' })[0]).toMatch(/^config: SESSION_SECRET: /)
    expect(problems({ ...valid, LEAF_API_TOKEN: 'tok' })[0]).toMatch(/^config: LEAF_API_TOKEN: /)
    expect(problems({ ...valid, WEBHOOK_URL: 'https://hooks.example.com/x' })[0]).toMatch(/^config: WEBHOOK_SECRET: /)
    expect(problems({ ...valid, PUBLIC_BASE_URL: 'http://connect.example.com', RAVEN_RESPONSE_MODE: 'form_post' })[0]).toMatch(
      /^config: RAVEN_RESPONSE_MODE: /,
    )
  })

  it('reads the page settings: APP_NAME, an https BRAND_LOGO_URL, a #rrggbb BRAND_COLOR, a supported DEFAULT_LOCALE', () => {
    expect(loadConfig(valid).pages).toEqual({ appName: undefined, logoUrl: undefined, brandColor: undefined, defaultLocale: 'en' })
    const config = loadConfig({
      ...valid,
      APP_NAME: ' Acme Farms ',
      BRAND_LOGO_URL: 'https://cdn.acme.example/logo.svg',
      BRAND_COLOR: '#2F6B3A',
      DEFAULT_LOCALE: 'pt-BR',
    })
    expect(config.pages).toEqual({ appName: 'Acme Farms', logoUrl: 'https://cdn.acme.example/logo.svg', brandColor: '#2f6b3a', defaultLocale: 'pt-BR' })
  })

  it.each([
    ['BRAND_LOGO_URL', 'http://cdn.acme.example/logo.svg', /must be an https URL/],
    ['BRAND_LOGO_URL', 'http://localhost/logo.svg', /must be an https URL/],
    ['BRAND_LOGO_URL', 'logo.svg', /not an absolute URL/],
    ['BRAND_LOGO_URL', 'https://user:pw@cdn.acme.example/logo.svg', /user name or password/],
    ['BRAND_COLOR', 'red', /#3b6e2a/],
    ['BRAND_COLOR', '#abc', /#3b6e2a/],
    ['BRAND_COLOR', '#12345g', /#3b6e2a/],
    ['DEFAULT_LOCALE', 'pt', /en, pt-BR, es, fr/],
    ['DEFAULT_LOCALE', 'de', /en, pt-BR, es, fr/],
    ['APP_NAME', 'x'.repeat(61), /at most 60/],
  ])('refuses %s=%s in one line naming the variable', (name, value, message) => {
    const lines = problems({ ...valid, [name]: value })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^config: ${name}: `))
    expect(lines[0]).toMatch(message)
  })

  it('splits lists and normalizes origins; keeps every session secret in order', () => {
    const config = loadConfig({
      ...valid,
      SESSION_SECRET: `${'n'.repeat(32)}, ${'o'.repeat(32)}`,
      API_KEYS: `${'a'.repeat(16)},${'b'.repeat(16)}`,
      RETURN_TO_ORIGINS: 'HTTPS://App.Example.com:443, http://localhost:5173',
      TRUST_PROXY: '2',
      LEAF_USERNAME: undefined,
      LEAF_PASSWORD: undefined,
      LEAF_API_TOKEN: 'ready-token',
    })
    expect(config.sessionSecrets).toEqual(['n'.repeat(32), 'o'.repeat(32)])
    expect(config.apiKeys).toHaveLength(2)
    expect(config.returnToOrigins).toEqual(['https://app.example.com', 'http://localhost:5173'])
    expect(config.trustProxy).toBe(2)
    expect(config.leaf.auth).toEqual({ token: 'ready-token' })
  })
})

describe('documentation matches the schema', () => {
  const names = Object.keys(envSchema.shape)
  it.each([['.env.example'], ['README.md']])('%s mentions every variable', (file) => {
    const text = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
    const missing = names.filter((name) => !text.includes(name))
    expect(missing).toEqual([])
  })
})

describe('the process', () => {
  it('exits non-zero before listening, printing one line per bad variable', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: new URL('..', import.meta.url),
      env: { PATH: process.env.PATH, ...valid, RAVEN_CLIENT_SECRET: '', LEAF_API_URL: 'http://leaf.example.com' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(result.status).toBe(1)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toEqual(['config: RAVEN_CLIENT_SECRET: is required', 'config: LEAF_API_URL: http:// is only allowed for loopback hosts (got http://leaf.example.com)'])
    expect(result.stdout).not.toContain('listening')
  })
})
