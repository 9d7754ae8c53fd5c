import { describeLeafFailure, isLeafError } from '../leaf/errors.js'
import { ProblemError, problem } from './problem.js'

/**
 * How a Leaf failure is shown to the host backend: never Leaf's body, always the stable code
 * leaf/errors.ts assigns. Anything that is not a LeafError is returned as it is.
 */
export function leafProblem(err: unknown): unknown {
  if (!isLeafError(err)) return err
  switch (describeLeafFailure(err).problem) {
    case 'leaf_user_not_found':
      return problem.notFound('leaf_user_not_found', 'Leaf does not know this leafUserId.')
    case 'ambiguous_external_id':
      return problem.conflict('ambiguous_external_id', 'More than one Leaf user has this externalId.')
    case 'leaf_rejected':
      return new ProblemError(502, 'leaf_rejected', 'Leaf refused the request', `Leaf answered ${err.status ?? 'an error'}.`)
    case 'upstream_unavailable':
      return problem.upstreamUnavailable('Leaf')
  }
}

/** For `.catch()` on a route's service call: throws the Leaf failure as its problem, anything else as is. */
export function rethrowLeafProblem(err: unknown): never {
  throw leafProblem(err)
}
