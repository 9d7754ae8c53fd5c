import { formatChecks, formatTable, ROUTES, TARGETS, type Summary } from '../bench/report.js'
import { median, percentile } from '../bench/stats.js'

// The bench's own arithmetic: a wrong percentile or ratio would misreport every run.
describe('bench helpers', () => {
  it('takes nearest-rank percentiles of a sorted list', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(sorted, 0.5)).toBe(50)
    expect(percentile(sorted, 0.99)).toBe(99)
    expect(percentile([7], 0.99)).toBe(7)
    expect(percentile([], 0.5)).toBeNaN()
  })

  it('takes the median of odd and even lists, ignoring NaN', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([Number.NaN, 5])).toBe(5)
  })

  it('prints each route with req/s ratios to the baseline and the usual stack, CPU µs and Redis commands per request, latency and RSS', () => {
    const summary = {} as Summary
    for (const route of ROUTES) {
      summary[route] = {} as Summary[typeof route]
      for (const target of TARGETS) {
        const rps = target === 'baseline' ? 1000 : target === 'usual-stack' ? 200 : 400
        const cpuMicrosPerRequest = target === 'baseline' ? 50 : 321.4
        summary[route][target] = { rps, p50: 1.234, p99: 5.678, peakRssMb: target === 'baseline' ? 100 : 150, redisCommandsPerRequest: 2, cpuMicrosPerRequest, errors: 0 }
      }
    }
    const table = formatTable(summary, 300)
    const launchRow = table.split('\n').find((line) => line.includes('launch') && line.includes('raven-connect'))
    expect(launchRow).toContain('| 400 | 0.40 | 2.00 | 321 | 2.0 | 1.23 | 5.68 | 150 | 1.50 |')
    expect(table.split('\n')).toHaveLength(2 + ROUTES.length * TARGETS.length)
    expect(formatChecks([{ name: 'x', target: '< 1', measured: '2', met: false }])).toContain('| x | < 1 | 2 | **no** |')
  })
})
