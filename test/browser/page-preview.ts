import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

import express from 'express'

import type { PageSettings } from '../../src/config/load-config.js'
import type { ConnectOutcome } from '../../src/consent/outcome.js'
import { renderLaunchErrorPage, renderPopupPage, renderResultPage } from '../../src/consent/result-pages.js'
import { brandStylesheet } from '../../src/http/brand-stylesheet.js'
import { renderErrorPage, renderUnavailablePage, type PageContext } from '../../src/http/html-page.js'
import { flowPageHeaders, securityHeaders } from '../../src/http/security-headers.js'
import { isLocale } from '../../src/i18n/locales.js'
import type { MessageKey } from '../../src/i18n/messages.js'

/*
 * The grower's pages rendered directly, for the browser tests that look at every page in every
 * language: the service's own render functions, stylesheets (page.css, the generated brand.css),
 * scripts and headers (the same helmet CSP, widened to the logo's origin as app.ts does), on loopback,
 * without a consent flow per screenshot. One real flow per language runs against the demo instead.
 */

/** An outcome page as the grower meets it, with the codes its <main> must carry. */
export interface PreviewPage {
  name: string
  render: (context: PageContext) => string
  raven: string
  reason: string | undefined
  /** The catalogue text its <h1> must show. */
  headingKey: MessageKey
}

const result = (name: string, outcome: ConnectOutcome): PreviewPage => ({
  name,
  render: (context) => renderResultPage(outcome, context),
  raven: outcome.raven,
  reason: outcome.raven === 'error' ? outcome.reason : undefined,
  headingKey: outcome.raven === 'error' ? `reason.${outcome.reason}.heading` : `${outcome.raven}.heading`,
})

/** Every outcome (connected, pending, declined, error, expired link) and the other pages the service shows. */
export const PREVIEW_PAGES: PreviewPage[] = [
  result('connected', { raven: 'connected' }),
  result('pending', { raven: 'pending' }),
  result('declined', { raven: 'error', reason: 'access_denied' }),
  result('error', { raven: 'error', reason: 'token_exchange_failed' }),
  result('flow-expired', { raven: 'error', reason: 'expired' }),
  { name: 'link-expired', render: (context) => renderLaunchErrorPage('invalid_link', context), raven: 'error', reason: 'expired', headingKey: 'link.expired.heading' },
  {
    name: 'popup-connected',
    render: (context) => renderPopupPage({ raven: 'connected' }, 'https://app.example.test', context),
    raven: 'connected',
    reason: undefined,
    headingKey: 'connected.heading',
  },
  { name: 'unavailable', render: (context) => renderUnavailablePage(context), raven: 'error', reason: 'server_error', headingKey: 'unavailable.heading' },
  { name: 'server-error', render: (context) => renderErrorPage(500, 'server_error', context), raven: 'error', reason: 'server_error', headingKey: 'error.server.heading' },
]

export interface PagePreview {
  url: string
  /** `${url}/preview/<page>?locale=<locale>` */
  pageUrl(page: PreviewPage, locale: string): string
  close(): Promise<void>
}

export async function startPagePreview(settings: PageSettings): Promise<PagePreview> {
  const app = express()
  app.use(securityHeaders(settings.logoUrl ? [new URL(settings.logoUrl).origin] : []), flowPageHeaders())
  app.get('/assets/brand.css', brandStylesheet(settings))
  app.use('/assets', express.static(fileURLToPath(new URL('../../public/', import.meta.url)), { index: false }))
  app.get('/preview/:name', (req, res) => {
    const page = PREVIEW_PAGES.find((candidate) => candidate.name === req.params.name)
    const locale = req.query.locale
    if (!page || !isLocale(locale)) return void res.status(404).type('text').send('no such preview')
    res.type('html').send(page.render({ locale, settings }))
  })
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    pageUrl: (page, locale) => `${url}/preview/${page.name}?locale=${encodeURIComponent(locale)}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
