import { Counter } from 'prom-client'

import type { Metrics } from '../ops/metrics.js'

/** Counters of the durable jobs, registered in the app's registry (served at /metrics). */
export interface DeliveryMetrics {
  deliveries: Counter<'outcome' | 'via'>
  webhooks: Counter<'outcome'>
}

export function createDeliveryMetrics(metrics: Metrics): DeliveryMetrics {
  const existing = (name: string) => metrics.registry.getSingleMetric(name)
  return {
    deliveries:
      (existing('raven_connect_credential_deliveries_total') as Counter<'outcome' | 'via'> | undefined) ??
      new Counter({
        name: 'raven_connect_credential_deliveries_total',
        help: 'Refresh tokens delivered to Leaf or given up on, by outcome and by path (inline, job, unparked).',
        labelNames: ['outcome', 'via'],
        registers: [metrics.registry],
      }),
    webhooks:
      (existing('raven_connect_webhooks_total') as Counter<'outcome'> | undefined) ??
      new Counter({
        name: 'raven_connect_webhooks_total',
        help: 'Webhook POST attempts, by outcome (delivered, retry, refused).',
        labelNames: ['outcome'],
        registers: [metrics.registry],
      }),
  }
}
