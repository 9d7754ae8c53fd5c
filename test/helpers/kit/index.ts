// The one flow kit of the tests: drive a grower's flow, read how it ended, check error answers,
// send raw bytes, look into the browser session in Redis, wait for what happens in the background.
export { callbackWith, consent, consentUpToCallback, flowToCallback, launch, launchFlow } from './flow.js'
export type { Decision, FlowAtCallback, FlowOptions, LaunchedFlow } from './flow.js'
export { expectErrorPage, expectNoInlineCode, mainAttribute, outcomeOf } from './outcome.js'
export type { Outcome } from './outcome.js'
export { expectNoInternals, expectProblem } from './problem.js'
export { parseRaw, rawRequest } from './raw-http.js'
export { ageFlows, redisKeys, sessionCookieOf, sessionIdOf } from './browser-session.js'
export { standIn, useSystem } from './system-per-file.js'
export type { StandIn } from './system-per-file.js'
export { waitFor } from './wait.js'
