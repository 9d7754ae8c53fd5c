import { describeLeafFailure, type LeafError } from '../leaf/errors.js'
import { ProblemError, problem } from './problem.js'

/**
 * How a Leaf failure is shown to the host backend: never Leaf's body, always the stable code
 * leaf/errors.ts assigns. The error handlers apply it to any LeafError a route lets through.
 */
export function leafProblem(err: LeafError): ProblemError {
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
