import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The few named metrics the service exports. One registry per app instance, so tests that build
 * several apps in one process do not collide on metric names.
 */
export interface Metrics {
  registry: Registry
  flowsStarted: Counter<'mode'>
  flowResults: Counter<'result' | 'reason'>
  upstreamLatency: Histogram<'upstream' | 'operation' | 'outcome'>
  httpRequests: Counter<'route' | 'status'>
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'raven_connect_' })
  return {
    registry,
    flowsStarted: new Counter({
      name: 'raven_connect_flows_started_total',
      help: 'Consent flows started (launches answered with a redirect to Raven).',
      labelNames: ['mode'],
      registers: [registry],
    }),
    flowResults: new Counter({
      name: 'raven_connect_flow_results_total',
      help: 'Consent flows finished, by result (connected, pending, error) and reason.',
      labelNames: ['result', 'reason'],
      registers: [registry],
    }),
    upstreamLatency: new Histogram({
      name: 'raven_connect_upstream_request_seconds',
      help: 'Latency of calls to Raven and Leaf, by upstream, operation and outcome.',
      labelNames: ['upstream', 'operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'raven_connect_http_requests_total',
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
  }
}
