import type { TestSystem } from '../system.js'

/** Runs the system's delayed jobs now, so a test does not sit through the real backoff (full jitter). */
export async function promoteDelayedJobs(system: Pick<TestSystem, 'service'>): Promise<void> {
  const jobs = (await system.service.jobs.queue.getJobs(['delayed'])) ?? []
  await Promise.all(jobs.map((job) => job.promote().catch(() => undefined)))
}
