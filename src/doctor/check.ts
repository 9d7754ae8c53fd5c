/** What one check concluded: `pass`, `warn` (works, but look at it) or `fail` (fix before go-live). */
export type CheckStatus = 'pass' | 'warn' | 'fail'

/** One line of the doctor's report, also the element of `--json`'s array. */
export interface CheckResult {
  check: string
  result: CheckStatus
  detail: string
}

export interface Verdict {
  result: CheckStatus
  detail: string
}

export const pass = (detail: string): Verdict => ({ result: 'pass', detail })
export const warn = (detail: string): Verdict => ({ result: 'warn', detail })
export const fail = (detail: string): Verdict => ({ result: 'fail', detail })

/** A check that could not run because an earlier one failed: a warning, the failure is already reported. */
export const notChecked = (because: string): Verdict => warn(`not checked: ${because}`)

/**
 * What a check may return: its verdict, and optionally a value later checks of the same area use
 * (Raven's endpoints, Leaf's token).
 */
export type Outcome<T> = Verdict & { value?: T }

/** Runs the checks of one area in order, each within its time limit (runner.ts). */
export interface AreaRun {
  check<T = never>(name: string, run: (signal: AbortSignal) => Promise<Outcome<T>> | Outcome<T>): Promise<T | undefined>
  /** Records a verdict that needs no work (a precondition failed, an option is unset). */
  report(name: string, verdict: Verdict): void
}

/** One area of the report (Redis, Raven, …): its checks run one after another. */
export type Area = (run: AreaRun) => Promise<void>
