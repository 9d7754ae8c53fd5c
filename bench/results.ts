import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

import { formatChecks, formatTable, type Check, type Summary, type TargetName } from './report.js'
import type { RecordedRun, RssGrowth } from './scenarios.js'
import { ROOT, settings } from './settings.js'
import type { StandInStats } from './stand-ins.js'

/* The end of a bench: every number into bench/results/<when>-<commit>.json, the tables to stdout. */

export interface BenchOutcome {
  summary: Summary
  checks: Check[]
  rssGrowth: Partial<Record<TargetName, RssGrowth>>
  upstream: StandInStats
  runs: RecordedRun[]
  idleRssMb: Record<TargetName, number>
  serverPinnedToCore1: boolean
  /** Other work on the machine skews every number: the load average before and after goes in the results. */
  loadBefore: number[]
  /** The commit that was built and measured, taken when the run started (gitCommit). */
  commit: string
}

/** Writes the results file and prints the table, the checks and the counters; returns the file. */
export function saveAndPrint(outcome: BenchOutcome): string {
  const { summary, checks, rssGrowth, upstream, runs, idleRssMb, loadBefore } = outcome
  const table = formatTable(summary, settings.offeredRate)
  const checksTable = formatChecks(checks)
  const commit = outcome.commit
  const result = {
    when: new Date().toISOString(),
    commit,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, serverPinnedToCore1: outcome.serverPinnedToCore1, loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
    settings,
    idleRssMb,
    summary,
    checks,
    rssGrowth,
    upstream,
    runs: runs.map(({ result: run, ...rest }) => ({ ...rest, ...run, trace: undefined })),
  }
  mkdirSync(`${ROOT}bench/results`, { recursive: true })
  const file = `${ROOT}bench/results/bench-${result.when.replace(/[:.]/g, '-')}-${commit}.json`
  writeFileSync(file, JSON.stringify(result, null, 2))

  process.stdout.write(`\n${table}\n\n${checksTable}\n\n`)
  process.stdout.write(`Upstream counters: ${JSON.stringify(upstream.callers)}\n`)
  process.stdout.write(`RSS growth: ${JSON.stringify(rssGrowth)}\n`)
  process.stdout.write(`Load average (1/5/15 min) before ${loadBefore.map((v) => v.toFixed(1)).join(' ')}, after ${loadavg().map((v) => v.toFixed(1)).join(' ')}; idle RSS ${JSON.stringify(idleRssMb)}\n`)
  process.stdout.write(`Results: ${file}\n`)
  return file
}

/**
 * The commit measured, marked -dirty when src/ has uncommitted changes. Taken when the bench starts,
 * right after the build: a commit made while it runs was not measured.
 */
export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha}-dirty` : sha
  } catch {
    return 'unknown'
  }
}
