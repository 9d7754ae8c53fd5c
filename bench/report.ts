export const TARGETS = ['raven-connect', 'baseline', 'usual-stack'] as const
export type TargetName = (typeof TARGETS)[number]
export const ROUTES = ['launch', 'callback', 'connect-session', 'status'] as const
export type RouteName = (typeof ROUTES)[number]

/** One cell of the table: a route on one server, over all rounds. */
export interface RouteSummary {
  /** Median over rounds of the fixed-concurrency runs. */
  rps: number
  /** Latency at the fixed offered rate (ms), median over rounds. */
  p50: number
  p99: number
  /** Highest RSS sampled during this route's runs (MB). */
  peakRssMb: number
  /** Commands Redis processed per request in the throughput runs (scripts and MULTI counted inside). */
  redisCommandsPerRequest: number
  /** Server CPU µs per request in the throughput runs, median over rounds. */
  cpuMicrosPerRequest: number
  /** Answers with another status than the route's success status, plus socket errors/timeouts. */
  errors: number
}

export type Summary = Record<RouteName, Record<TargetName, RouteSummary>>

const LABELS: Record<RouteName, string> = {
  launch: 'launch `GET /connect/raven`',
  callback: 'callback `GET /connect/raven/callback`',
  'connect-session': 'connect session `POST /v1/connect-sessions`',
  status: 'status `GET /v1/users/{id}/raven-connection`',
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a'
}

/** The one table: each route on the three servers, with raven-connect / baseline ratios. */
export function formatTable(summary: Summary, offeredRate: number): string {
  const lines = [
    `| route | server | req/s | req/s × baseline | req/s × usual stack | CPU µs/req | Redis cmds/req | p50 ms @${offeredRate}/s | p99 ms @${offeredRate}/s | peak RSS MB | RSS × baseline |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const route of ROUTES) {
    const base = summary[route].baseline
    const usual = summary[route]['usual-stack']
    for (const target of TARGETS) {
      const cell = summary[route][target]
      const errors = cell.errors > 0 ? ` (${cell.errors} errors)` : ''
      lines.push(
        `| ${target === 'raven-connect' ? LABELS[route] : ''} | ${target} | ${fixed(cell.rps, 0)}${errors} | ${fixed(cell.rps / base.rps, 2)} | ${fixed(cell.rps / usual.rps, 2)} | ${fixed(cell.cpuMicrosPerRequest, 0)} | ${fixed(cell.redisCommandsPerRequest, 1)} | ${fixed(cell.p50, 2)} | ${fixed(cell.p99, 2)} | ${fixed(cell.peakRssMb, 0)} | ${fixed(cell.peakRssMb / base.peakRssMb, 2)} |`,
      )
    }
  }
  return lines.join('\n')
}

export interface Check {
  name: string
  target: string
  measured: string
  met: boolean
}

export function formatChecks(checks: Check[]): string {
  const lines = ['| check | target | measured | met |', '| --- | --- | --- | --- |']
  for (const check of checks) lines.push(`| ${check.name} | ${check.target} | ${check.measured} | ${check.met ? 'yes' : '**no**'} |`)
  return lines.join('\n')
}
