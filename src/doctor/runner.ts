import { notChecked, type Area, type AreaRun, type CheckResult, type Outcome } from './check.js'

export interface RunnerOptions {
  /** Time limit of each check, in ms. A check still running then fails, and its requests are aborted. */
  checkTimeoutMs: number
}

/**
 * Runs the areas side by side and the checks of an area one after another, each check within
 * `checkTimeoutMs`. Once a check of an area hits its limit, the area's later checks (which talk to
 * the same upstream) are not started: a hung upstream costs one time limit per area, not the run. Results come back in
 * area order, whatever order they finished in. A check that throws fails with the error's message
 * (the printer masks any configured secret that might be in it).
 */
export async function runAreas(areas: Area[], options: RunnerOptions): Promise<CheckResult[]> {
  const perArea = await Promise.all(
    areas.map(async (area) => {
      const results: CheckResult[] = []
      await area(areaRun(results, options)).catch((err: unknown) => {
        results.push({ check: 'doctor', result: 'fail', detail: `a check crashed: ${messageOf(err)}` })
      })
      return results
    }),
  )
  return perArea.flat()
}

function areaRun(results: CheckResult[], options: RunnerOptions): AreaRun {
  let stalled: string | undefined
  return {
    report(name, verdict) {
      results.push({ check: name, ...verdict })
    },
    async check(name, run) {
      if (stalled !== undefined) {
        results.push({ check: name, ...notChecked(`${stalled} got no answer in time`) })
        return undefined
      }
      const controller = new AbortController()
      let timer: NodeJS.Timeout | undefined
      const limit = new Promise<Outcome<never>>((resolve) => {
        timer = setTimeout(() => {
          stalled = name
          controller.abort(new Error('time limit'))
          resolve({ result: 'fail', detail: `no answer within ${formatSeconds(options.checkTimeoutMs)} (time limit of a check): is it reachable from here?` })
        }, options.checkTimeoutMs)
      })
      let outcome: Outcome<unknown>
      try {
        outcome = await Promise.race([Promise.resolve().then(() => run(controller.signal)), limit])
      } catch (err) {
        outcome = { result: 'fail', detail: `unexpected error: ${messageOf(err)}` }
      } finally {
        clearTimeout(timer)
      }
      results.push({ check: name, result: outcome.result, detail: outcome.detail })
      return outcome.value as never
    },
  }
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
