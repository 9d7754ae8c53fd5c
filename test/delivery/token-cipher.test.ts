import { randomBytes } from 'node:crypto'

import { describe, expect, it } from '@jest/globals'

import { createTokenCipher, TokenCipherError } from '../../src/delivery/token-cipher.js'

const cipher = createTokenCipher(randomBytes(32))
const token = 'raven-refresh-token-' + randomBytes(16).toString('hex')

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    return err instanceof TokenCipherError ? err.kind : 'other'
  }
}

describe('token cipher (AES-256-GCM)', () => {
  it('round-trips, never shows the token, and uses a fresh IV for every record', () => {
    const first = cipher.seal(token, 'dlv_1|u1')
    const second = cipher.seal(token, 'dlv_1|u1')
    expect(first).not.toContain(token)
    expect(first).not.toBe(second)
    expect(first.split('.')[2]).not.toBe(second.split('.')[2])
    expect(cipher.open(first, 'dlv_1|u1')).toBe(token)
    expect(cipher.keyIdOf(first)).toBe(cipher.keyId)
  })

  it('refuses a changed ciphertext, tag or IV, and a record moved to another delivery or grower', () => {
    const sealed = cipher.seal(token, 'dlv_1|u1')
    const parts = sealed.split('.')
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index] ?? '', 'base64url')
      bytes[0] = (bytes[0] ?? 0) ^ 0x80
      const changed = [...parts]
      changed[index] = bytes.toString('base64url')
      expect(kindOf(() => cipher.open(changed.join('.'), 'dlv_1|u1'))).toBe('tampered')
    }
    expect(kindOf(() => cipher.open(sealed, 'dlv_2|u1'))).toBe('tampered')
    expect(kindOf(() => cipher.open(sealed, 'dlv_1|u2'))).toBe('tampered')
    expect(kindOf(() => cipher.open('not a record', 'dlv_1|u1'))).toBe('malformed')
  })

  it('names another key as unknown (rotation) instead of failing as tampered', () => {
    const other = createTokenCipher(randomBytes(32))
    const sealed = other.seal(token, 'dlv_1|u1')
    expect(other.keyId).not.toBe(cipher.keyId)
    expect(kindOf(() => cipher.open(sealed, 'dlv_1|u1'))).toBe('unknown_key')
  })
})
