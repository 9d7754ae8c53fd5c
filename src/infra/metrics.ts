import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * Every named metric the service exports, in one place. One registry per app instance, so tests that build
 * several apps in one process do not collide on metric names.
 */
export interface Metrics {
  registry: Registry
  flowsStarted: Counter<'mode'>
  flowResults: Counter<'result' | 'reason'>
  upstreamLatency: Histogram<'upstream' | 'operation' | 'outcome'>
  httpRequests: Counter<'route' | 'status'>
  /** Refresh tokens delivered to Leaf or given up on, by outcome and path (inline, job, unparked). */
  deliveries: Counter<'outcome' | 'via'>
  /** Webhook POST attempts, by outcome (delivered, retry, refused). */
  webhooks: Counter<'outcome'>
  /** Leaf Alerts received or recovered, by type (or confirmation, other) and what became of them. */
  leafAlerts: Counter<'type' | 'outcome'>
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
    deliveries: new Counter({
      name: 'raven_connect_credential_deliveries_total',
      help: 'Refresh tokens delivered to Leaf or given up on, by outcome and by path (inline, job, unparked).',
      labelNames: ['outcome', 'via'],
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'raven_connect_webhooks_total',
      help: 'Webhook POST attempts, by outcome (delivered, retry, refused).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    leafAlerts: new Counter({
      name: 'raven_connect_leaf_alerts_total',
      help: "Leaf Alerts handled, by type (credentialsUnauthenticated, credentialsLimitedPermission, confirmation, other) and outcome (applied, stale, unknown, other_provider, ignored, rejected_signature …).",
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
  }
}
