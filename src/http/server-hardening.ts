import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http'
import type { Duplex } from 'node:stream'

import type { PageSettings } from '../config/load-config.js'
import { renderErrorPage } from './html-page.js'
import { NEUTRAL_PAGE_SETTINGS, rawRequestPageContext } from './page-context.js'
import { problemBody } from './problem.js'

export interface ServerLimits {
  /** Time a client has to send the complete request head (Node's default: 60 s). */
  headersTimeoutMs: number
  /** Time a client has to send the whole request (Node's default: 300 s). */
  requestTimeoutMs: number
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs: number
  /** How often Node checks the two timeouts above (Node's default: 30 s, which would stretch them). */
  checkIntervalMs: number
}

/**
 * Well below Node's defaults, so slow clients (slowloris, slow bodies) cannot hold sockets: no route
 * here waits on the client for long, and the slowest legitimate request (a callback waiting on Raven
 * and Leaf) waits on upstreams, not on the client's upload.
 */
export const SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
}

/** An HTTP server with tightened timeouts and readable answers to requests Node's parser refuses. */
export function createHardenedServer(handler?: RequestListener, limits: ServerLimits = SERVER_LIMITS, pages: PageSettings = NEUTRAL_PAGE_SETTINGS): Server {
  const server = createServer({
    connectionsCheckingInterval: limits.checkIntervalMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node's default (16 KiB); stated so a NODE_OPTIONS --max-http-header-size cannot raise it.
    maxHeaderSize: 16 * 1024,
  })
  if (handler) server.on('request', handler)
  return tightenTimeouts(server, limits, pages)
}

/**
 * Applies the limits to an existing server (its check interval is fixed at creation) and answers
 * parser-level failures (headers over 16 KiB, malformed request lines, timeouts) itself: Node's default
 * is a bare status line, and the request never reaches Express.
 */
export function tightenTimeouts(server: Server, limits: ServerLimits = SERVER_LIMITS, pages: PageSettings = NEUTRAL_PAGE_SETTINGS): Server {
  server.headersTimeout = limits.headersTimeoutMs
  server.requestTimeout = limits.requestTimeoutMs
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  server.removeAllListeners('clientError')
  server.on('clientError', (err: ClientError, socket: Duplex) => answerClientError(err, socket, pages))
  if (!server.listeners('connection').includes(rememberRequestLines)) server.on('connection', rememberRequestLines)
  return server
}

/** The start of the last request line each socket sent: what a parser error's own packet may lack. */
const requestLines = new WeakMap<Duplex, string>()
const REQUEST_LINE = /^[A-Z]+ \//

// A parser error carries only the chunk being parsed when it failed: with headers that arrive in
// several TCP segments (a browser's cookies), that chunk no longer shows which route was asked for.
function rememberRequestLines(socket: Duplex): void {
  socket.on('data', (chunk: Buffer) => {
    const head = chunk.toString('latin1', 0, 40)
    if (REQUEST_LINE.test(head)) requestLines.set(socket, head)
  })
}

type ClientError = Error & { code?: string; rawPacket?: Buffer }

function answerClientError(err: ClientError, socket: Duplex, pages: PageSettings): void {
  // A reset or an already-answered socket has no one left to tell.
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const title = STATUS_CODES[status] ?? 'Bad Request'
  const packet = err.rawPacket?.toString('latin1', 0, 40) ?? ''
  const requestLine = REQUEST_LINE.test(packet) ? packet : (requestLines.get(socket) ?? '')
  // Browser routes get a page; one on the callback (or the launch) carries the flow result on <main>.
  const browser = /^[A-Z]+ \/connect[/?\s]/i.test(requestLine)
  const body = browser
    ? renderErrorPage(status, 'invalid_request', rawRequestPageContext(err.rawPacket, pages))
    : problemBody({ status, code: code(status), title, detail: detail(status) })
  const type = browser ? 'text/html; charset=utf-8' : 'application/problem+json; charset=utf-8'
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\n` +
      `Content-Type: ${type}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Content-Security-Policy: default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'\r\n" +
      'X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n' +
      'Cache-Control: no-store\r\nConnection: close\r\n\r\n' +
      body,
  )
}

function code(status: number): string {
  return status === 431 ? 'headers_too_large' : status === 408 ? 'request_timeout' : 'bad_request'
}

function detail(status: number): string {
  if (status === 431) return 'The request headers (or URL) are too large.'
  if (status === 408) return 'The request was not received in time.'
  return 'The request could not be parsed.'
}
