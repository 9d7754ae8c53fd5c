import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'

/**
 * Why a sealed token could not be opened:
 * - `unknown_key`: sealed under another TOKEN_ENCRYPTION_KEY (a key rotation is in progress).
 * - `tampered`: the GCM tag does not verify: the ciphertext, IV or associated data was changed.
 * - `malformed`: not a sealed token at all.
 */
export type TokenCipherErrorKind = 'unknown_key' | 'tampered' | 'malformed'

/** Carries no part of the token, the key or the ciphertext: safe to log. */
export class TokenCipherError extends Error {
  constructor(readonly kind: TokenCipherErrorKind) {
    super(`sealed token could not be opened: ${kind}`)
    this.name = 'TokenCipherError'
  }
}

export interface TokenCipher {
  /** Names the key without revealing it, so a record says which key sealed it. */
  readonly keyId: string
  /** AES-256-GCM with a fresh random 96-bit IV; `context` is bound as associated data. */
  seal(plaintext: string, context: string): string
  /** Throws TokenCipherError when the record was sealed under another key or changed in any way. */
  open(sealed: string, context: string): string
  /** The key id a sealed record names, or undefined when it is not one. */
  keyIdOf(sealed: string): string | undefined
}

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Seals refresh tokens for the time they wait in Redis. Format: `v1.<keyId>.<iv>.<ciphertext>.<tag>`
 * (base64url parts). A random 96-bit IV per record is NIST SP 800-38D's recommended construction; at
 * this service's volume (one record per consent) the birthday bound is far away. The associated data
 * (delivery id and Leaf user) makes a record useless when copied to another delivery or grower.
 */
export function createTokenCipher(key: Buffer): TokenCipher {
  if (key.length !== 32) throw new Error('token cipher: the key must be exactly 32 bytes')
  // An HMAC of a fixed label, truncated: identifies the key, reveals nothing about it.
  const keyId = createHmac('sha256', key).update('raven-connect token key id').digest('base64url').slice(0, 11)
  return {
    keyId,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(Buffer.from(`${VERSION}.${keyId}.${context}`, 'utf8'))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const tag = cipher.getAuthTag()
      return [VERSION, keyId, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.')
    },
    open(sealed, context) {
      const parts = sealed.split('.')
      if (parts.length !== 5 || parts[0] !== VERSION) throw new TokenCipherError('malformed')
      const [, recordKeyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string]
      if (recordKeyId !== keyId) throw new TokenCipherError('unknown_key')
      const iv = Buffer.from(ivText, 'base64url')
      const tag = Buffer.from(tagText, 'base64url')
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new TokenCipherError('malformed')
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
        decipher.setAAD(Buffer.from(`${VERSION}.${recordKeyId}.${context}`, 'utf8'))
        decipher.setAuthTag(tag)
        return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8')
      } catch {
        // OpenSSL says only "Unsupported state or unable to authenticate data".
        throw new TokenCipherError('tampered')
      }
    },
    keyIdOf(sealed) {
      const parts = sealed.split('.')
      return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined
    },
  }
}
