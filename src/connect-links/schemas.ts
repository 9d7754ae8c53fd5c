import { z } from 'zod'

import { LOCALES } from '../i18n/locales.js'
import { emailSchema, externalIdSchema, leafUserIdSchema, nameSchema } from '../http/params.js'

/*
 * The wire types of POST /v1/connect-sessions. A module of their own so that the route parses with them
 * and the OpenAPI document is generated from them without importing the route.
 */

export const createConnectSessionBody = z
  .strictObject({
    leafUserId: leafUserIdSchema.optional(),
    externalId: externalIdSchema.optional(),
    name: nameSchema.optional(),
    email: emailSchema.optional(),
    returnTo: z.string().optional(),
    mode: z.enum(['redirect', 'popup']).optional(),
    locale: z.enum(LOCALES).optional().describe("The language of the service's pages for this flow."),
  })
  .refine((body) => (body.leafUserId === undefined) !== (body.externalId === undefined), {
    message: 'give exactly one of leafUserId or externalId',
  })
  .refine((body) => body.externalId !== undefined || (body.name === undefined && body.email === undefined), {
    message: 'name and email are only used with externalId',
  })
  // A popup posts its result to the opener at returnTo's origin: without one it has nowhere to post.
  .refine((body) => body.mode !== 'popup' || body.returnTo !== undefined, {
    message: 'mode popup needs a returnTo (the origin the result is posted to)',
    path: ['returnTo'],
  })

export type CreateConnectSessionBody = z.infer<typeof createConnectSessionBody>

export interface ConnectSessionReply {
  id: string
  connectUrl: string
  leafUserId: string
  expiresAt: string
}
