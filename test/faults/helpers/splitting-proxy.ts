import { createServer, request, type Server } from 'node:http'

/**
 * A load balancer for tests: forwards each request to the backend `route` picks (by path), so a test
 * can send a grower's launch to one instance and the callback to another.
 */
export async function startSplittingProxy(port: number, route: (path: string) => string): Promise<{ served: Array<{ path: string; backend: string }>; close(): Promise<void> }> {
  const served: Array<{ path: string; backend: string }> = []
  const server: Server = createServer((req, res) => {
    const backend = route(req.url ?? '/')
    served.push({ path: req.url ?? '/', backend })
    const upstream = request(`${backend}${req.url ?? '/'}`, { method: req.method, headers: req.headers, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
