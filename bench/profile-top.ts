import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

import { ROOT } from './settings.js'

/*
 * The hottest frames of a V8 CPU profile (`npm run bench` with BENCH_PROFILE=1 writes them to
 * dist/bench/profiles/): self time per function, and the share of the process's samples it holds.
 * Usage: node dist/bench/bench/profile-top.js <file.cpuprofile> [count] [--by-owner]
 */

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a frame's code lives: a package, a Node internal module, the service's own file, or V8. */
function ownerOf(file: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1]
  if (pkg) return pkg
  if (file.startsWith('node:')) return 'node:' + (file.slice(5).split(/[/:]/)[1] ?? file.slice(5))
  if (file.startsWith('dist/')) return file.replace(/:\d+$/, '')
  return file || '(native/V8)'
}

/**
 * Self time per frame (function, file, line), or per owner (package, Node module, source file) with
 * `byOwner`, highest first, with each one's share of the busy samples (idle excluded).
 */
export function topFrames(profile: Profile, count: number, byOwner = false): { frame: string; selfMs: number; percent: number }[] {
  const byNode = new Map<number, number>()
  profile.samples.forEach((id, index) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)))
  const totals = new Map<string, number>()
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const file = url.startsWith('file://') ? relative(ROOT, new URL(url).pathname) : url
    if (functionName === '(idle)') continue
    const frame = byOwner ? (functionName.startsWith('(') ? functionName : ownerOf(file)) : `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim()
    totals.set(frame, (totals.get(frame) ?? 0) + (byNode.get(node.id) ?? 0))
  }
  const all = [...totals.values()].reduce((sum, value) => sum + value, 0)
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, micros]) => ({ frame, selfMs: micros / 1000, percent: (micros / all) * 100 }))
}

const [file, count] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
if (file) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  for (const { frame, selfMs, percent } of topFrames(profile, Number(count ?? '25'), process.argv.includes('--by-owner'))) {
    process.stdout.write(`${percent.toFixed(1).padStart(5)} %  ${selfMs.toFixed(0).padStart(7)} ms  ${frame}\n`)
  }
}
