/*
 * The registry's Lua scripts. Each change is one script so that an alert, a delivery finishing and a
 * disconnect never see half of another. Keys built inside a script (a previous credential's mapping, a
 * Leaf user's hash found through the credential) carry the same hash tag as the declared ones, so
 * they live in the same Cluster slot.
 */

import { standaloneScript } from '../infra/atomic-write.js'

export const HEALTHS = ['ok', 'unauthenticated', 'limited_permission'] as const
export type Health = (typeof HEALTHS)[number]

/**
 * What an alert did:
 * - `applied`: health changed; tell the host (`connection.broken`), then clear the notify mark.
 * - `notify`: applied earlier, but the webhook was not confirmed queued (a crash, or another instance
 *   still at it); queue it again under the same id, which the queue de-duplicates.
 * - `unknown`: no registered credential has this id (not ours, or its delivery is still finishing).
 * - `replaced`: the credential id maps to a grower whose entry now holds another credential.
 * - `stale`: older than the credential, or not newer than the last health change (Leaf's retries).
 * - `unchanged`: a newer alert that says what the registry already says.
 */
export type AlertVerdict =
  | { outcome: 'applied' | 'notify' | 'stale' | 'unchanged' | 'replaced'; leafUserId: string }
  | { outcome: 'unknown'; leafUserId: null }

// K: user hash, credential mapping, index, the `ok` health set, then every health set.
// A: leafUserId, credentialId, connectedAt ms, Leaf createdTime ms ('' unknown), credential prefix.
// The same credential again (a retried finish, a re-read) keeps its health; another one replaces the
// entry and starts at `ok` (a reconnect), unless Leaf created it before the registered one: a status
// read that saw the old credential just before a reconnect replaced it must not undo the reconnect.
// A body of a Lua function of K and A (infra/atomic-write.ts AtomicStep): the delivery's finish script
// runs it in its own atomic step, and REGISTER is the same body as a script of its own.
// A grower with no entry is in no index set (every change writes the entry and its sets together),
// so a first registration writes without clearing: four writes after one read.
export const REGISTER_STEP = `local entry = redis.call('HMGET', K[1], 'credentialId', 'createdAt')
local old, oldCreated = entry[1], entry[2]
if old and old ~= A[2] and oldCreated and oldCreated ~= '' and A[4] ~= '' and tonumber(A[4]) < tonumber(oldCreated) then
  return -1
end
if old == A[2] then
  redis.call('SET', K[2], A[1])
  redis.call('ZADD', K[3], 0, A[1])
  return 0
end
if old then
  redis.call('DEL', A[5] .. old)
  for i = 5, #K do redis.call('ZREM', K[i], A[1]) end
  redis.call('DEL', K[1])
end
redis.call('HSET', K[1], 'credentialId', A[2], 'health', 'ok', 'connectedAt', A[3], 'createdAt', A[4])
redis.call('SET', K[2], A[1])
redis.call('ZADD', K[3], 0, A[1])
redis.call('ZADD', K[4], 0, A[1])
return 1`

export const REGISTER = standaloneScript(REGISTER_STEP)

// KEYS: user hash, index, every health set. ARGV: leafUserId, credential prefix.
export const FORGET = `
local old = redis.call('HGET', KEYS[1], 'credentialId')
if old then redis.call('DEL', ARGV[2] .. old) end
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return old and 1 or 0
`

// KEYS: credential mapping, every health set.
// ARGV: user prefix, credentialId, new health, alert ms, Leaf status, alert key, health-set prefix.
export const APPLY_ALERT = `
local leafUserId = redis.call('GET', KEYS[1])
if not leafUserId then return {'unknown'} end
local user = ARGV[1] .. leafUserId
local entry = redis.call('HMGET', user, 'credentialId', 'health', 'healthChangedAt', 'createdAt', 'notify')
if entry[1] ~= ARGV[2] then return {'replaced', leafUserId} end
local at = tonumber(ARGV[4])
if entry[5] == ARGV[6] then return {'notify', leafUserId} end
if entry[4] and entry[4] ~= '' and at < tonumber(entry[4]) then return {'stale', leafUserId} end
if entry[3] and entry[3] ~= '' and at <= tonumber(entry[3]) then return {'stale', leafUserId} end
if entry[2] == ARGV[3] then return {'unchanged', leafUserId} end
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], leafUserId) end
redis.call('ZADD', ARGV[7] .. ARGV[3], 0, leafUserId)
redis.call('HSET', user, 'health', ARGV[3], 'healthChangedAt', ARGV[4], 'leafStatus', ARGV[5], 'notify', ARGV[6])
return {'applied', leafUserId}
`

// KEYS: user hash. ARGV: alert key. Only this alert's mark: a newer alert's stays until it is told.
export const CLEAR_NOTIFY = `
if redis.call('HGET', KEYS[1], 'notify') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'notify') end
return 0
`
