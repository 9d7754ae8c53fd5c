import { LeafError } from '../leaf/errors.js'
import { ProblemError, problem } from './problem.js'

/** How a Leaf failure is shown to the host backend: never Leaf's body, always a stable code. */
export function leafProblem(err: unknown): unknown {
  if (!(err instanceof LeafError)) return err
  switch (err.kind) {
    case 'not_found':
      return problem.notFound('leaf_user_not_found', 'Leaf does not know this leafUserId.')
    case 'ambiguous_external_id':
      return problem.conflict('ambiguous_external_id', 'More than one Leaf user has this externalId.')
    case 'rejected':
      return new ProblemError(502, 'leaf_rejected', 'Leaf refused the request', `Leaf answered ${err.status ?? 'an error'}.`)
    default:
      return problem.upstreamUnavailable('Leaf')
  }
}
