import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'

/**
 * Issues and checks the sandbox's API owner tokens: HS256 JWTs with `exp`, like Leaf's `id_token`.
 * A generation counter lets `faults.expireTokensNow()` invalidate every token already issued.
 */
export class SandboxTokens {
  private readonly key = randomBytes(32)
  generation = 0
  /** Every token issued, so a leak scan can look for each of them. */
  readonly issued: string[] = []

  issue(subject: string, ttlSeconds: number): string {
    const now = Math.floor(Date.now() / 1000)
    const header = encode({ alg: 'HS256', typ: 'JWT' })
    const claims = { sub: subject, auth: 'ROLE_USER', iat: now, exp: now + ttlSeconds, gen: this.generation }
    const payload = encode({ ...claims, jti: randomUUID() })
    const token = `${header}.${payload}.${this.sign(`${header}.${payload}`)}`
    this.issued.push(token)
    return token
  }

  verify(token: string): boolean {
    const [header, payload, signature, ...rest] = token.split('.')
    if (header === undefined || payload === undefined || signature === undefined || rest.length > 0) return false
    const expected = Buffer.from(this.sign(`${header}.${payload}`))
    const given = Buffer.from(signature)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown; gen?: unknown }
      return typeof claims.exp === 'number' && claims.exp * 1000 > Date.now() && claims.gen === this.generation
    } catch {
      return false
    }
  }

  expireAll(): void {
    this.generation += 1
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url')
  }
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
