// A host backend's receiver for raven-connect webhooks, runnable as it is:
//
//   WEBHOOK_SECRET=... PORT=4500 npx tsx examples/webhook-receiver.ts
//
// then set WEBHOOK_URL=http://127.0.0.1:4500/webhooks/raven-connect on raven-connect. It verifies
// `Raven-Connect-Signature` over the raw body, rejects stale timestamps (replays), drops duplicates by
// event `id` (retries resend the same id), and answers 2xx quickly: raven-connect retries on network
// errors, timeouts, 429 and 5xx, and gives up on any other status.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'

export interface RavenConnectEvent {
  id: string
  type: 'connection.created' | 'connection.failed' | 'connection.deleted' | 'connection.broken' | 'ping'
  createdAt: string
  leafUserId: string
  data: Record<string, string>
}

/** Checks `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` in constant time. */
export function verifyRavenConnectSignature(rawBody: string, header: string | undefined, secret: string, toleranceSeconds = 300): boolean {
  if (!header) return false
  let timestamp: string | undefined
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2)
    if (key === 't') timestamp = value
    if (key === 'v1' && value) signatures.push(value)
  }
  if (!timestamp || !/^\d+$/.test(timestamp)) return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false
  const expected = Buffer.from(createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'))
  return signatures.some((signature) => {
    const given = Buffer.from(signature)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

export interface WebhookReceiver {
  url: string
  /** Each event once, in arrival order (duplicates dropped). */
  events: RavenConnectEvent[]
  /** Every POST that arrived, with whether its signature held. */
  deliveries: Array<{ id: string | undefined; signatureValid: boolean; status: number }>
  /** Answer the next `count` valid deliveries with `status` instead of 204 (to exercise retries). */
  failNext(count: number, status: number): void
  close(): Promise<void>
}

/** Starts the receiver; `port: 0` picks a free one. */
export async function startWebhookReceiver(options: { secret: string; port?: number; path?: string }): Promise<WebhookReceiver> {
  const path = options.path ?? '/webhooks/raven-connect'
  const seen = new Set<string>()
  const events: RavenConnectEvent[] = []
  const deliveries: WebhookReceiver['deliveries'] = []
  let failures: { count: number; status: number } = { count: 0, status: 503 }

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== path) return void res.writeHead(404).end()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      // Verify the exact bytes received: re-serialized JSON would not match the signature.
      const rawBody = Buffer.concat(chunks).toString('utf8')
      const signatureValid = verifyRavenConnectSignature(rawBody, req.headers['raven-connect-signature'] as string | undefined, options.secret)
      let event: RavenConnectEvent | undefined
      try {
        event = JSON.parse(rawBody) as RavenConnectEvent
      } catch {
        event = undefined
      }
      const answer = (status: number) => {
        deliveries.push({ id: event?.id, signatureValid, status })
        res.writeHead(status).end()
      }
      if (!signatureValid || !event?.id) return answer(400)
      if (failures.count > 0) {
        failures.count -= 1
        return answer(failures.status)
      }
      if (!seen.has(event.id)) {
        seen.add(event.id)
        events.push(event)
        // A real receiver hands the event to its own queue here and answers at once.
      }
      answer(204)
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}${path}`,
    events,
    deliveries,
    failNext(count, status) {
      failures = { count, status }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

// Run directly: print each new event.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const secret = process.env.WEBHOOK_SECRET
  if (!secret) {
    console.error('WEBHOOK_SECRET is required')
    process.exit(1)
  }
  const receiver = await startWebhookReceiver({ secret, port: Number(process.env.PORT ?? 4500) })
  console.log(`listening on ${receiver.url}`)
  let printed = 0
  setInterval(() => {
    for (const event of receiver.events.slice(printed)) console.log(JSON.stringify(event))
    printed = receiver.events.length
  }, 500)
}
