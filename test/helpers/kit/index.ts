// The one flow kit of the tests: drive a grower's flow, read how it ended, check error answers,
// send raw bytes, look into the browser session in Redis, wait for what happens in the background
// (and run delayed jobs now), one system per file.
export { callbackWith, consent, consentUpToCallback, flowToCallback, launch, launchFlow } from './flow.js'
export type { Decision, FlowAtCallback, FlowOptions, LaunchedFlow } from './flow.js'
export { expectErrorPage, expectNoInlineCode, mainAttribute, outcomeOf } from './outcome.js'
export type { Outcome } from './outcome.js'
export { expectNoInternals, expectProblem } from './problem.js'
export { promoteDelayedJobs } from './jobs.js'
export { parseRaw, rawRequest } from './raw-http.js'
export { ageFlows, redisKeys, sessionCookieOf, sessionIdOf } from './browser-session.js'
export { recordRedisCommands } from './redis-commands.js'
export type { RecordedCommand } from './redis-commands.js'
export { standIn } from './stand-in.js'
export type { StandIn } from './stand-in.js'
export { useSystem } from './system-per-file.js'
export { waitFor } from './wait.js'
