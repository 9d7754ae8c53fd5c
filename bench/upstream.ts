import { Agent, request } from 'node:http'

/*
 * The bench servers' HTTP client for the stand-ins: node:http with one keep-alive agent, the
 * cheapest correct way to call an upstream from Node. Loopback http only (bench use).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 })

export interface UpstreamReply {
  status: number
  body: string
}

export function call(url: string, method: string, headers: Record<string, string>, body?: string): Promise<UpstreamReply> {
  return new Promise((resolve, reject) => {
    const outgoing = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }
    const req = request(url, { method, headers: outgoing, agent, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('upstream timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

/** A Leaf API token, fetched lazily, shared by concurrent callers, renewed shortly before `exp`. */
export function leafTokenSource(leafUrl: string, username: string, password: string, userAgent: string) {
  let cached: { token: string; renewAt: number } | undefined
  let inFlight: Promise<string> | undefined
  return (): Promise<string> => {
    if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.token)
    inFlight ??= call(`${leafUrl}/api/authenticate`, 'POST', { 'content-type': 'application/json', 'user-agent': userAgent }, JSON.stringify({ username, password, rememberMe: 'true' }))
      .then((reply) => {
        if (reply.status !== 200) throw new Error(`leaf authenticate: ${reply.status}`)
        const token = (JSON.parse(reply.body) as { id_token: string }).id_token
        const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp: number; iat: number }
        const margin = Math.min(60_000, ((claims.exp - claims.iat) * 1000) / 2)
        cached = { token, renewAt: claims.exp * 1000 - margin }
        return token
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }
}
