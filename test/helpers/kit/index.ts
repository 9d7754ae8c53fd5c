// The one flow kit of the tests: drive a grower's flow, read how it ended, check error answers,
// send raw bytes, look into the browser session in Redis, wait for what happens in the background
// (and run delayed jobs now), one system per file.
export { callbackWith, consent, consentUpToCallback, flowToCallback, launch, launchFlow } from './flow.js'
export type { Decision, FlowAtCallback, FlowOptions, LaunchedFlow } from './flow.js'
export { expectErrorPage, expectNoInlineCode, htmlLang, mainAttribute, outcomeOf, pageText } from './outcome.js'
export type { Outcome } from './outcome.js'
export { expectNoInternals, expectProblem } from './problem.js'
export { promoteDelayedJobs } from './jobs.js'
export { parseRaw, rawRequest } from './raw-http.js'
export { ageFlows, redisKeys, sessionCookieOf, sessionIdOf } from './browser-session.js'
export { standIn } from './stand-in.js'
export type { StandIn } from './stand-in.js'
export { useSystem } from './system-per-file.js'
export { waitFor } from './wait.js'
export { CREDENTIAL_EVENTS, doctorLine, parseDoctorJson, registerAlertsAtLeaf, runDoctor, startDoctorWorld, startHangingServer } from './doctor.js'
export type { DoctorRun, DoctorWorld, DoctorWorldOptions } from './doctor.js'
export { connectedGrower, connectionOf, credentialAlert, postLeafAlert, registerLeafAlerts } from './leaf-alerts.js'
