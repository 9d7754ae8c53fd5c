// How a flow ended, read the way a host app or the popup script reads it: from the returnTo redirect's
// query (`raven=…&reason=…`), or from the result page's `<main data-raven data-reason>`.
import { expect } from '@jest/globals'

import { decodeEntities, type BrowserResponse } from '../browser.js'

export interface Outcome {
  raven: string | null
  reason: string | null
}

/** An attribute of the page's `<main>` element, decoded; undefined when absent. */
export function mainAttribute(html: string, name: string): string | undefined {
  const match = new RegExp(`<main[^>]*\\s${name}="([^"]*)"`).exec(html)
  return match ? decodeEntities(match[1] ?? '') : undefined
}

/** The outcome a callback (or launch) answer carries: from its 303 to returnTo, or from its page. */
export function outcomeOf(res: BrowserResponse): Outcome {
  if (res.status === 303 && res.location) {
    const url = new URL(res.location)
    return { raven: url.searchParams.get('raven'), reason: url.searchParams.get('reason') }
  }
  return { raven: mainAttribute(res.body, 'data-raven') ?? null, reason: mainAttribute(res.body, 'data-reason') ?? null }
}

/** An HTML result page (not a redirect) ending in `raven=error&reason=<reason>`. */
export function expectErrorPage(res: BrowserResponse, status: number, reason: string): void {
  expect({ status: res.status, type: res.headers.get('content-type'), ...outcomeOf(res) }).toEqual({
    status,
    type: expect.stringContaining('text/html'),
    raven: 'error',
    reason,
  })
}

/** No inline script, event handler or inline style: the pages' CSP (script-src 'self') would block them. */
export function expectNoInlineCode(html: string): void {
  expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i)
  expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i)
  expect(html).not.toMatch(/\son[a-z]+\s*=/i)
  expect(html).not.toMatch(/<style|\sstyle\s*=/i)
}

/** The text a reader sees on a page: tags dropped (with <head>), entities decoded, spaces collapsed. */
export function pageText(html: string): string {
  const body = html.replace(/<head>[\s\S]*?<\/head>/i, ' ')
  return decodeEntities(body.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim()
}

/** The page's language: its `<html lang>`. */
export function htmlLang(html: string): string | undefined {
  return /<html[^>]*\slang="([^"]*)"/.exec(html)?.[1]
}
