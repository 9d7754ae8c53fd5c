import type { Config } from '../config/load-config.js'
import { isLoopbackHost } from '../config/upstream-url.js'
import { fail, notChecked, pass, warn, type Area, type Verdict } from './check.js'
import { describeNetworkError, jsonOf, request } from './http.js'

/**
 * PUBLIC_BASE_URL: https unless loopback; with `--public`, the service answers there, and a request
 * that arrived over https is seen as https (so TRUST_PROXY matches the proxies in front of it).
 */
export function publicArea(config: Config, reachOut: boolean): Area {
  return async (run) => {
    const url = new URL(config.publicBaseUrl)
    run.report('public.https', checkScheme(url))
    if (!reachOut) {
      run.report('public.healthz', warn('not checked: run npm run doctor -- --public once PUBLIC_BASE_URL reaches this deployment (checks /healthz and TRUST_PROXY)'))
      return
    }
    const health = await run.check<{ protocol?: unknown }>('public.healthz', async (signal) => {
      const target = `${config.publicBaseUrl}/healthz`
      let reply
      try {
        reply = await request(target, { signal, headers: { accept: 'application/json' } })
      } catch (err) {
        return fail(`${target}: ${describeNetworkError(err)}. Is the service deployed, and do DNS and the load balancer point at it?`)
      }
      const body = jsonOf(reply) as { status?: unknown; protocol?: unknown } | undefined
      if (reply.status !== 200 || body?.status !== 'ok') {
        return fail(`${target} answered ${reply.status}${reply.status >= 300 && reply.status < 400 ? ` (a redirect to ${reply.headers.get('location') ?? '?'})` : ''}, not raven-connect’s {"status":"ok"}`)
      }
      return { ...pass(`${target} answers`), value: body }
    })
    if (health === undefined) {
      run.report('public.trust-proxy', notChecked('PUBLIC_BASE_URL did not answer'))
      return
    }
    run.report('public.trust-proxy', checkSeenScheme(url, health.protocol, config.trustProxy))
  }
}

function checkScheme(url: URL): Verdict {
  if (url.protocol === 'https:') return pass(`PUBLIC_BASE_URL is https (${url.origin})`)
  if (isLoopbackHost(url.hostname)) return pass(`PUBLIC_BASE_URL is plain http on loopback (${url.origin}): fine on this machine only`)
  return fail(`PUBLIC_BASE_URL is plain http (${url.origin}): cookies cannot be Secure and Raven requires https redirect URIs. Serve the service over https and set PUBLIC_BASE_URL=https://…`)
}

function checkSeenScheme(url: URL, protocol: unknown, trustProxy: Config['trustProxy']): Verdict {
  if (url.protocol !== 'https:') return pass('PUBLIC_BASE_URL is http: there is no TLS proxy to trust')
  if (protocol === 'https') return pass('the service sees https requests as https: TRUST_PROXY trusts the TLS proxy in front of it')
  if (protocol === 'http') {
    // The deployed service's TRUST_PROXY is what counts; this environment's value is a hint.
    const here = trustProxy === false ? 'unset' : String(trustProxy)
    return fail(
      `an https request reached the service as plain http: TLS ends at a proxy it does not trust. Set TRUST_PROXY on the service to the number of proxies in front of it (usually 1; here it is ${here}); without it no session cookie is set`,
    )
  }
  return warn('/healthz did not say how it saw the request (an older raven-connect?): TRUST_PROXY not checked')
}
