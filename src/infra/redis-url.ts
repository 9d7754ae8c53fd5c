/**
 * What REDIS_URL may name, as ioredis supports it:
 * - `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS): one Redis server.
 * - `redis+sentinel://[user:password@]host1:26379,host2:26379/<master name>[/db]` (`rediss+sentinel://`
 *   for TLS): ioredis asks the Sentinels for the current master and follows failovers. The password
 *   is the master's; `?sentinelPassword=` (and `?sentinelUsername=`) authenticate to the Sentinels.
 * - `redis+cluster://[user:password@]host1:6379,host2:6379` (`rediss+cluster://` for TLS): Redis
 *   Cluster; the listed nodes are seeds, the rest is discovered.
 */
export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | {
      kind: 'sentinel'
      sentinels: Array<{ host: string; port: number }>
      name: string
      db: number
      username?: string
      password?: string
      sentinelUsername?: string
      sentinelPassword?: string
      tls: boolean
    }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string; tls: boolean }

export const REDIS_URL_FORMS = 'redis://, rediss://, redis+sentinel://host:port,…/master or redis+cluster://host:port,…'

/** Parses REDIS_URL; throws an Error whose message says what is wrong (never echoing a password). */
export function parseRedisTarget(value: string): RedisTarget {
  const match = /^(rediss?)(?:\+(sentinel|cluster))?:\/\/(.*)$/i.exec(value.trim())
  if (!match) throw new Error(`must be one of ${REDIS_URL_FORMS}`)
  const scheme = (match[1] ?? '').toLowerCase()
  const variant = match[2]?.toLowerCase()
  if (!variant) {
    try {
      new URL(value)
    } catch {
      throw new Error('is not a valid URL')
    }
    return { kind: 'standalone', url: value.trim() }
  }
  const rest = match[3] ?? ''
  const at = rest.lastIndexOf('@')
  const auth = at === -1 ? '' : rest.slice(0, at)
  const afterAuth = at === -1 ? rest : rest.slice(at + 1)
  const [hostsAndPath = '', query = ''] = afterAuth.split('?', 2)
  const slash = hostsAndPath.indexOf('/')
  const hostList = slash === -1 ? hostsAndPath : hostsAndPath.slice(0, slash)
  const path = slash === -1 ? '' : hostsAndPath.slice(slash + 1)
  const hosts = hostList.split(',').filter(Boolean).map((item) => parseHostPort(item, variant === 'sentinel' ? 26379 : 6379))
  if (hosts.length === 0) throw new Error(`names no ${variant} host`)
  const credentials = parseAuth(auth)
  const tls = scheme === 'rediss'
  if (variant === 'cluster') {
    if (path !== '') throw new Error('a cluster URL has no path (Redis Cluster has only database 0)')
    return { kind: 'cluster', nodes: hosts, ...credentials, tls }
  }
  const [name = '', dbText = '0'] = path.split('/')
  if (name === '') throw new Error('a sentinel URL must name the master: redis+sentinel://host:26379/<master name>')
  if (!/^\d+$/.test(dbText)) throw new Error('the database after the master name must be a number')
  const params = new URLSearchParams(query)
  return {
    kind: 'sentinel',
    sentinels: hosts,
    name: decodeURIComponent(name),
    db: Number(dbText),
    ...credentials,
    ...optional('sentinelUsername', params.get('sentinelUsername')),
    ...optional('sentinelPassword', params.get('sentinelPassword')),
    tls,
  }
}

function parseHostPort(item: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item)
  const plain = /^([^:]+)(?::(\d+))?$/.exec(item)
  const found = bracketed ?? plain
  if (!found?.[1]) throw new Error(`"${item}" is not host:port`)
  const port = found[2] === undefined ? defaultPort : Number(found[2])
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${item}" has no valid port`)
  return { host: found[1], port }
}

function parseAuth(auth: string): { username?: string; password?: string } {
  if (auth === '') return {}
  const colon = auth.indexOf(':')
  const username = decodeURIComponent(colon === -1 ? auth : auth.slice(0, colon))
  const password = colon === -1 ? undefined : decodeURIComponent(auth.slice(colon + 1))
  return { ...optional('username', username), ...optional('password', password) }
}

function optional<K extends string>(key: K, value: string | null | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {}
}
