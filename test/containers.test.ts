import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

import { describe, expect, it } from '@jest/globals'

import { loadConfig } from '../src/config/load-config.js'

/*
 * No Docker engine runs where these tests run, so the images are not built here. What can be checked
 * without one is checked: the compose file parses, its services agree with each other (URLs, ports,
 * secrets, the shared loopback namespace), raven-connect's environment passes loadConfig exactly as the
 * container would read it, and the Dockerfile has the stages, user, health check and command it needs.
 */

const root = fileURLToPath(new URL('../', import.meta.url))
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8')
// js-yaml ships with Jest's toolchain (ts-jest → babel-plugin-istanbul); v3 API.
const yaml = createRequire(import.meta.url)('js-yaml') as { safeLoad(source: string): unknown }

interface Service {
  image?: string
  build?: { context: string; target?: string }
  command?: string[]
  environment?: Record<string, string>
  ports?: string[]
  network_mode?: string
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}

const compose = yaml.safeLoad(read('docker-compose.yml')) as { services: Record<string, Service> }
const services = compose.services
const env = (name: string): Record<string, string> => services[name]?.environment ?? {}
const dockerfile = read('Dockerfile')
const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((match) => match[1])

function stage(name: string): string {
  const start = dockerfile.search(new RegExp(`^FROM\\s+\\S+\\s+AS\\s+${name}\\s*$`, 'im'))
  if (start === -1) throw new Error(`no stage ${name}`)
  const rest = dockerfile.slice(start + 1)
  const next = rest.search(/^FROM\s/m)
  return next === -1 ? dockerfile.slice(start) : dockerfile.slice(start, start + 1 + next)
}

describe('docker-compose.yml', () => {
  it('brings up Redis, raven-connect, both sandboxes and the demo host app', () => {
    expect(Object.keys(services).sort()).toEqual(['demo-host', 'leaf', 'raven', 'raven-connect', 'redis'])
    expect(services['raven-connect']?.build?.target).toBe('runtime')
    for (const name of ['raven', 'leaf', 'demo-host']) expect(services[name]?.build?.target).toBe('sandbox')
    for (const service of Object.values(services)) {
      if (service.build?.target) expect(stages).toContain(service.build.target)
      const script = service.command?.find((part) => part.endsWith('.ts'))
      if (script) expect(existsSync(`${root}${script}`)).toBe(true)
    }
  })

  it('gives raven-connect an environment that loadConfig accepts, as the container reads it', () => {
    const config = loadConfig(env('raven-connect'))
    expect(config.publicBaseUrl).toBe('http://127.0.0.1:3000')
    // As production is configured: explicit endpoints and Raven's path-shaped issuer.
    expect(config.raven.endpoints).toEqual({
      kind: 'explicit',
      issuer: 'http://127.0.0.1:4010/core',
      authorizationEndpoint: 'http://127.0.0.1:4010/core/connect/authorize',
      tokenEndpoint: 'http://127.0.0.1:4010/core/connect/token',
      revocationEndpoint: 'http://127.0.0.1:4010/core/connect/revocation',
    })
  })

  it('shares one loopback namespace, so browser-facing URLs are the URLs the servers use', () => {
    for (const name of ['raven', 'leaf', 'raven-connect', 'demo-host']) expect(services[name]?.network_mode).toBe('service:redis')
    const published = (services.redis?.ports ?? []).map((mapping) => mapping.split(':'))
    // Published on the host's loopback only, same port inside and out.
    for (const parts of published) {
      expect(parts[0]).toBe('127.0.0.1')
      expect(parts[1]).toBe(parts[2])
    }
    const publishedPorts = published.map((parts) => parts[1])
    for (const url of [env('raven-connect').PUBLIC_BASE_URL, env('raven').RAVEN_SANDBOX_ISSUER, env('demo-host').HOST_PUBLIC_URL]) {
      expect(publishedPorts).toContain(new URL(url ?? 'http://x').port)
    }
  })

  it('wires the services to each other consistently', () => {
    const service = env('raven-connect')
    const raven = env('raven')
    const leaf = env('leaf')
    const host = env('demo-host')
    // The sandbox serves its issuer under /core unless RAVEN_SANDBOX_ISSUER_PATH says otherwise.
    expect(service.RAVEN_ISSUER).toBe(`${raven.RAVEN_SANDBOX_ISSUER}${raven.RAVEN_SANDBOX_ISSUER_PATH ?? '/core'}`)
    expect(service.RAVEN_TOKEN_ENDPOINT?.startsWith(`${raven.RAVEN_SANDBOX_ISSUER}/`)).toBe(true)
    expect(new URL(raven.RAVEN_SANDBOX_ISSUER ?? '').port).toBe(raven.RAVEN_SANDBOX_PORT)
    expect(raven.PUBLIC_BASE_URL).toBe(service.PUBLIC_BASE_URL)
    expect(raven.RAVEN_CLIENT_ID).toBe(service.RAVEN_CLIENT_ID)
    expect(raven.RAVEN_CLIENT_SECRET).toBe(service.RAVEN_CLIENT_SECRET)
    expect(new URL(service.LEAF_API_URL ?? '').port).toBe(leaf.LEAF_SANDBOX_PORT)
    expect([leaf.LEAF_USERNAME, leaf.LEAF_PASSWORD]).toEqual([service.LEAF_USERNAME, service.LEAF_PASSWORD])
    expect(service.API_KEYS?.split(',')).toContain(host.RAVEN_CONNECT_API_KEY)
    expect(service.RETURN_TO_ORIGINS?.split(',')).toContain(new URL(host.HOST_PUBLIC_URL ?? '').origin)
    expect(host.RAVEN_CONNECT_URL).toBe(service.PUBLIC_BASE_URL)
    expect(new URL(service.PORT ? `http://x:${service.PORT}` : 'http://x').port).toBe(new URL(service.PUBLIC_BASE_URL ?? '').port)
    // Browser-facing sandboxes listen on all interfaces of the namespace, or published ports reach nothing.
    expect(raven.RAVEN_SANDBOX_HOST).toBe('0.0.0.0')
    expect(host.HOST_APP_HOST).toBe('0.0.0.0')
  })

  it('starts raven-connect only after Redis and the sandboxes are healthy, and the host app after it', () => {
    expect(services['raven-connect']?.depends_on).toEqual({
      redis: { condition: 'service_healthy' },
      raven: { condition: 'service_healthy' },
      leaf: { condition: 'service_healthy' },
    })
    expect(services['demo-host']?.depends_on).toEqual({ 'raven-connect': { condition: 'service_healthy' } })
    for (const name of ['redis', 'raven', 'leaf']) expect(services[name]?.healthcheck?.test.length).toBeGreaterThan(1)
  })
})

describe('Dockerfile', () => {
  it('is multi-stage and ends on the production stage', () => {
    expect(stages).toEqual(['deps', 'build', 'prod-deps', 'sandbox', 'runtime'])
  })

  it('ships production dependencies only, compiled code and the browser assets', () => {
    const runtime = stage('runtime')
    expect(stage('prod-deps')).toMatch(/npm ci --omit=dev/)
    expect(runtime).toMatch(/COPY --from=prod-deps \/app\/node_modules \.\/node_modules/)
    expect(runtime).not.toMatch(/COPY --from=(deps|build) \/app\/node_modules/)
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/)
    // src/app.ts serves ../public, src/sdk/sdk-route.ts reads ../../sdk: both beside dist/.
    for (const dir of ['public', 'sdk']) {
      expect(runtime).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'))
      expect(existsSync(`${root}${dir}`)).toBe(true)
    }
  })

  it('runs as a non-root user, checks /healthz and starts with npm start', () => {
    const runtime = stage('runtime')
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1])
    expect(users.at(-1)).toBe('node')
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/healthz/m)
    expect(runtime).toMatch(/^CMD \["npm", "start"\]$/m)
    // Node options (the V8 memory settings) may come before the entry point; nothing else may.
    expect(JSON.parse(read('package.json')).scripts.start).toMatch(/^node (--[a-z-]+=\d+ )*dist\/main\.js$/)
  })

  it('can run npm run doctor in the production image: compiled entry, no tsx needed', () => {
    // The image has dist/ and production dependencies but no src/ and no tsx: the script must use dist/.
    const script = JSON.parse(read('package.json')).scripts.doctor as string
    expect(script).toMatch(/if \[ -f src\/cli\/doctor\.ts \] && \[ -x node_modules\/\.bin\/tsx \]; then exec tsx src\/cli\/doctor\.ts "\$@"; else exec node dist\/cli\/doctor\.js "\$@"; fi/)
    expect(existsSync(`${root}src/cli/doctor.ts`)).toBe(true)
    expect(read('tsconfig.build.json')).toMatch(/"include": \["src"\]/)
    const runtime = stage('runtime')
    expect(runtime).not.toMatch(/^COPY (--from=\S+ )?\S*src\b/m)
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/)
    expect(JSON.parse(read('package.json')).devDependencies.tsx).toBeDefined()
  })

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim())
    for (const entry of ['.env', '.git', 'node_modules', 'dist', 'test-artifacts']) expect(ignored).toContain(entry)
  })
})
