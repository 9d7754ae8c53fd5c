import { html, json, problemRef, rateLimitedRef, ref, type Json } from './components.js'

/*
 * The grower's browser: the consent flow (/connect), this browser's connection (/api, session cookie),
 * the SDK and the pages' assets.
 */

/** Errors of the browser's /api routes. */
const apiErrors = {
  '401': problemRef,
  '429': rateLimitedRef,
  '502': problemRef,
  '503': problemRef,
}

const consentPaths: Record<string, Json> = {
  '/connect/raven': {
    get: {
      tags: ['grower browser'],
      operationId: 'launchConnectFlow',
      summary: 'Consume the connect token and send the browser to Raven’s consent page',
      parameters: [{ name: 'session', in: 'query', required: true, description: 'The one-time connect token from connectUrl.', schema: { type: 'string' } }],
      responses: {
        '303': { description: 'To Raven’s authorization endpoint (response_type=code, PKCE S256, state, nonce)' },
        '400': html('The link is incomplete'),
        '410': html('The link is unknown, used or expired: start again from the app'),
        '429': html('Too many requests'),
        '503': html('Raven or Redis unreachable; nothing was changed'),
      },
    },
    head: {
      tags: ['grower browser'],
      operationId: 'headConnectFlow',
      summary: 'Refused, so link previewers and scanners cannot spend a connect token',
      responses: { '405': { description: 'Allow: GET' } },
    },
  },
  '/connect/raven/callback': {
    get: {
      tags: ['grower browser'],
      operationId: 'connectCallback',
      summary: 'Raven’s redirect back: exchange the code, store the refresh token at Leaf, report the result',
      parameters: [
        { name: 'code', in: 'query', schema: { type: 'string' } },
        { name: 'state', in: 'query', schema: { type: 'string' } },
        { name: 'iss', in: 'query', schema: { type: 'string' } },
        { name: 'error', in: 'query', schema: { type: 'string' } },
      ],
      responses: {
        '303': { description: 'To returnTo with raven=connected|pending or raven=error&reason=<reason> in its query' },
        '200': html('Result page (no returnTo), or the popup end page that posts the result to the opener'),
        '4XX': html('Result page for an error; <main> carries data-raven and data-reason'),
        '5XX': html('Result page for an upstream or server error'),
      },
    },
    head: {
      tags: ['grower browser'],
      operationId: 'headConnectCallback',
      summary: 'Refused, so a link checker cannot take the flow and spend the authorization code',
      responses: { '405': { description: 'Allow: GET, POST' } },
    },
    post: {
      tags: ['grower browser'],
      operationId: 'connectCallbackFormPost',
      summary: 'The same callback for RAVEN_RESPONSE_MODE=form_post',
      requestBody: { content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } } },
      responses: {
        '303': { description: 'As for GET' },
        '200': html('As for GET'),
        '4XX': html('As for GET'),
        '5XX': html('As for GET'),
      },
    },
  },
}

const connectionPaths: Record<string, Json> = {
  '/api/raven-connection': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserRavenConnection',
      summary: 'The connection status of the Leaf user this browser connected in the last hour',
      security: [{ sessionCookie: [] }],
      responses: { '200': { description: 'As /v1/users/{leafUserId}/raven-connection', content: json(ref('ConnectionStatus')) }, ...apiErrors },
    },
    delete: {
      tags: ['grower browser'],
      operationId: 'deleteBrowserRavenConnection',
      summary: 'Disconnect this browser’s Leaf user; needs an X-Requested-With header (CSRF)',
      security: [{ sessionCookie: [] }],
      parameters: [{ name: 'X-Requested-With', in: 'header', required: true, schema: { type: 'string' } }],
      responses: { '204': { description: 'Disconnected' }, '403': problemRef, ...apiErrors },
    },
  },
  '/api/raven-connection/events': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserRavenConnectionEvents',
      summary: 'Troubleshooting events for this browser’s Leaf user, secrets redacted',
      security: [{ sessionCookie: [] }],
      responses: { '200': { description: 'Events', content: json(ref('ConnectionEvents')) }, ...apiErrors },
    },
  },
}

const staticPaths: Record<string, Json> = {
  '/sdk/raven-connect.js': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrowserSdk',
      summary: 'The browser SDK: an ES module exporting connectRaven(connectUrl) (CORS for RETURN_TO_ORIGINS)',
      responses: { '200': { description: 'JavaScript module', content: { 'text/javascript': { schema: { type: 'string' } } } } },
    },
  },
  '/assets/brand.css': {
    get: {
      tags: ['grower browser'],
      operationId: 'getBrandStylesheet',
      summary: "The pages' accent colour (BRAND_COLOR, or a neutral default) as a CSS custom property",
      responses: { '200': { description: 'Stylesheet', content: { 'text/css': { schema: { type: 'string' } } } } },
    },
  },
  '/assets/{file}': {
    get: {
      tags: ['grower browser'],
      operationId: 'getAsset',
      summary: 'Stylesheet and script of the grower-facing pages (page.css, popup.js)',
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'The file' }, '404': problemRef },
    },
  },
}

export const browserPaths: Record<string, Json> = { ...consentPaths, ...connectionPaths, ...staticPaths }
