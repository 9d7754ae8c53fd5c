import { isLeafError } from '../leaf/client.js'
import { describeNetworkError } from './http.js'
import { formatSeconds } from './runner.js'

/**
 * A Leaf call that got no answer at all (refused, DNS, TLS, no answer in time), in an operator's words;
 * undefined when Leaf did answer. The LeafError keeps the network error as its cause.
 */
export function describeUnreachable(err: unknown, apiUrl: string, checkTimeoutMs: number): string | undefined {
  if (!isLeafError(err) || err.status !== undefined) return undefined
  if (err.kind === 'timeout') return `${apiUrl}: no answer within ${formatSeconds(checkTimeoutMs)}: is it reachable from here?`
  return `${apiUrl}: ${describeNetworkError(err.cause ?? err)}. Check LEAF_API_URL and the network`
}
