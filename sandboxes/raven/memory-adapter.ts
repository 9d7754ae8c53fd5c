import type { Adapter, AdapterPayload } from 'oidc-provider'

// The models whose rows belong to a grant and go when it is revoked (as in oidc-provider's adapter).
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest'])

interface Entry {
  payload: AdapterPayload
  expiresAt: number
}

// oidc-provider's own in-memory adapter is an LRU capped at 1,000 entries (lib/adapters/memory_adapter.js),
// so a long test run could silently evict a refresh token a test still expects to be live; it also prints
// a "development-only" warning on every start. This one keeps everything until it expires, per sandbox.
export function createMemoryAdapter(): (model: string) => Adapter {
  const store = new Map<string, Entry>()
  const grants = new Map<string, Set<string>>()

  const read = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= Date.now()) {
      store.delete(key)
      return undefined
    }
    return entry.payload
  }

  return (model: string): Adapter => {
    const keyFor = (id: string) => `${model}:${id}`
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyFor(id)
        const expiresAt = expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000
        store.set(key, { payload, expiresAt })
        if (model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, { payload: { id }, expiresAt })
        if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt })
        if (payload.grantId && GRANTABLE.has(model)) {
          const members = grants.get(payload.grantId) ?? new Set<string>()
          members.add(key)
          grants.set(payload.grantId, members)
        }
      },
      async find(id) {
        return read(keyFor(id))
      },
      async findByUid(uid) {
        const pointer = read(`sessionUid:${uid}`)
        return typeof pointer?.id === 'string' ? read(keyFor(pointer.id)) : undefined
      },
      async findByUserCode(userCode) {
        const pointer = read(`userCode:${userCode}`)
        return typeof pointer?.id === 'string' ? read(keyFor(pointer.id)) : undefined
      },
      async consume(id) {
        const payload = read(keyFor(id))
        if (payload) payload.consumed = Math.floor(Date.now() / 1000)
      },
      async destroy(id) {
        store.delete(keyFor(id))
      },
      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) store.delete(key)
        grants.delete(grantId)
      },
    }
  }
}
