// Bytes on a socket, for what fetch will not send: repeated headers, dot segments, oversized or
// malformed request lines, and clients that stop half-way.
import { connect } from 'node:net'

import type { TestSystem } from '../system.js'

/** Writes raw bytes to the service and returns whatever it answers before closing (bounded wait). */
export function rawRequest(system: Pick<TestSystem, 'url'>, text: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(system.url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('raw request: no answer in time'))
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    socket.write(text)
  })
}

/** Splits a raw HTTP/1.1 answer into status, lower-cased headers and body. */
export function parseRaw(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const split = answer.indexOf('\r\n\r\n')
  const head = answer.slice(0, split === -1 ? answer.length : split).split('\r\n')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0)
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers, body: split === -1 ? '' : answer.slice(split + 4) }
}
