// A cookie-jar HTTP "browser" for tests: global fetch with redirect: 'manual', so every hop is seen,
// cookies are kept per RFC 6265 (simplified for loopback hosts), and every exchange is recorded so a
// test can scan all of them for leaked secrets.

export interface BrowserResponse {
  method: string
  /** The URL requested. */
  url: string
  status: number
  /** The Location header resolved against `url`, or null. */
  location: string | null
  headers: Headers
  body: string
}

export interface Cookie {
  name: string
  value: string
  domain: string
  /** Without a Domain attribute a cookie goes back only to the exact host that set it. */
  hostOnly: boolean
  path: string
  secure: boolean
  httpOnly: boolean
  sameSite: string | undefined
  /** Epoch milliseconds; undefined for a session cookie. */
  expiresAt: number | undefined
}

export interface FollowOptions {
  /** Called with each redirect target before it is requested; true stops there, unrequested. */
  stopAt?: (url: URL) => boolean
  maxHops?: number
}

export interface ParsedForm {
  /** Absolute URL the form submits to. */
  action: string
  method: 'GET' | 'POST'
  id: string | undefined
  /** Successful controls a browser would submit without a click: named inputs, checked boxes, textareas. */
  fields: Record<string, string>
  buttons: Array<{ name: string | undefined; value: string; text: string; id: string | undefined }>
}

export interface BrowserOptions {
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number
  userAgent?: string
}

type FormFields = Record<string, string> | URLSearchParams | Array<[string, string]>

export class TestBrowser {
  /** Every exchange, in order. */
  readonly history: BrowserResponse[] = []
  private jar: Cookie[] = []
  private readonly timeoutMs: number
  private readonly userAgent: string

  constructor(options: BrowserOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.userAgent = options.userAgent ?? 'raven-connect-test-browser'
  }

  get(url: string | URL, headers: Record<string, string> = {}): Promise<BrowserResponse> {
    return this.request(url, { method: 'GET', headers })
  }

  postForm(url: string | URL, fields: FormFields, headers: Record<string, string> = {}): Promise<BrowserResponse> {
    const body = new URLSearchParams(fields).toString()
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    })
  }

  /** Submits a parsed form as a browser would, with `overrides` and the clicked button's name=value. */
  submit(form: ParsedForm, overrides: Record<string, string> = {}, buttonText?: string): Promise<BrowserResponse> {
    const fields = new URLSearchParams({ ...form.fields, ...overrides })
    if (buttonText !== undefined) {
      const button = form.buttons.find((b) => b.text === buttonText)
      if (!button) throw new Error(`no button "${buttonText}" in form ${form.id ?? form.action}`)
      if (button.name) fields.append(button.name, button.value)
    }
    if (form.method === 'GET') {
      const target = new URL(form.action)
      target.search = fields.toString()
      return this.get(target)
    }
    return this.postForm(form.action, fields)
  }

  async request(url: string | URL, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<BrowserResponse> {
    const target = new URL(url)
    const headers = new Headers({ 'user-agent': this.userAgent, accept: 'text/html,application/json;q=0.9,*/*;q=0.8', ...init.headers })
    const cookie = this.cookieHeader(target)
    if (cookie) headers.set('cookie', cookie)
    const res = await fetch(target, {
      method: init.method,
      headers,
      body: init.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    })
    for (const line of res.headers.getSetCookie()) this.storeCookie(line, target)
    const location = res.headers.get('location')
    const response: BrowserResponse = {
      method: init.method,
      url: target.href,
      status: res.status,
      location: location === null ? null : new URL(location, target).href,
      headers: res.headers,
      body: await res.text(),
    }
    this.history.push(response)
    return response
  }

  /**
   * Requests `start` (or continues from a response already received) and follows 30x redirects as a
   * browser navigation does (303, and 301/302 after a POST, become GET). Returns the chain.
   */
  async follow(start: string | URL | BrowserResponse, options: FollowOptions = {}): Promise<BrowserResponse[]> {
    const maxHops = options.maxHops ?? 20
    const chain: BrowserResponse[] = []
    let current = typeof start === 'string' || start instanceof URL ? await this.get(start) : start
    chain.push(current)
    for (let hop = 0; ; hop++) {
      const next = redirectTarget(current)
      if (!next || options.stopAt?.(next)) return chain
      if (hop >= maxHops) throw new Error(`more than ${maxHops} redirects, last to ${next.href}`)
      current = await this.get(next)
      chain.push(current)
    }
  }

  /** The cookies that would be sent to `url`, most specific path first. */
  cookiesFor(url: string | URL): Cookie[] {
    const target = new URL(url)
    const now = Date.now()
    this.jar = this.jar.filter((c) => c.expiresAt === undefined || c.expiresAt > now)
    return this.jar
      .filter((c) => domainMatches(c, target.hostname) && pathMatches(c.path, target.pathname))
      .filter((c) => !c.secure || target.protocol === 'https:')
      .sort((a, b) => b.path.length - a.path.length)
  }

  cookieHeader(url: string | URL): string {
    return this.cookiesFor(url)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }

  get cookies(): readonly Cookie[] {
    return this.jar
  }

  clearCookies(): void {
    this.jar = []
  }

  /** Everything the browser saw, one string: URLs, statuses, headers (Set-Cookie included) and bodies. */
  transcript(): string {
    return this.history
      .map((r) => {
        const lines: string[] = []
        r.headers.forEach((value, name) => lines.push(`${name}: ${value}`))
        const headers = lines.join('\n')
        return `${r.method} ${r.url} -> ${r.status}\n${headers}\n\n${r.body}`
      })
      .join('\n\n')
  }

  private storeCookie(line: string, origin: URL): void {
    const cookie = parseSetCookie(line, origin)
    if (!cookie) return
    this.jar = this.jar.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path))
    // Max-Age<=0 or a past Expires is how a server deletes a cookie (RFC 6265 §5.3 step 11).
    if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.jar.push(cookie)
  }
}

/** Where a 30x response sends the browser, or null when it is not a redirect. */
export function redirectTarget(response: BrowserResponse): URL | null {
  if (response.status < 300 || response.status > 399 || !response.location) return null
  return new URL(response.location)
}

export function parseSetCookie(line: string, origin: URL): Cookie | undefined {
  const [pair = '', ...attributes] = line.split(';')
  const eq = pair.indexOf('=')
  if (eq <= 0) return undefined
  const cookie: Cookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    domain: origin.hostname.toLowerCase(),
    hostOnly: true,
    path: defaultPath(origin.pathname),
    secure: false,
    httpOnly: false,
    sameSite: undefined,
    expiresAt: undefined,
  }
  let maxAgeSeen = false
  for (const attribute of attributes) {
    const [rawKey = '', ...rest] = attribute.split('=')
    const key = rawKey.trim().toLowerCase()
    const value = rest.join('=').trim()
    if (key === 'path' && value.startsWith('/')) cookie.path = value
    else if (key === 'domain' && value) {
      const domain = value.replace(/^\./, '').toLowerCase()
      // A host may not set cookies for another domain (RFC 6265 §5.3 step 6).
      if (!domainOf(origin.hostname, domain)) return undefined
      cookie.domain = domain
      cookie.hostOnly = false
    } else if (key === 'max-age' && /^-?\d+$/.test(value)) {
      maxAgeSeen = true
      cookie.expiresAt = Date.now() + Number(value) * 1000
    } else if (key === 'expires' && !maxAgeSeen) {
      const time = Date.parse(value)
      if (!Number.isNaN(time)) cookie.expiresAt = time
    } else if (key === 'secure') cookie.secure = true
    else if (key === 'httponly') cookie.httpOnly = true
    else if (key === 'samesite') cookie.sameSite = value.toLowerCase()
  }
  return cookie
}

function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/')
  return slash <= 0 ? '/' : pathname.slice(0, slash)
}

function domainOf(host: string, domain: string): boolean {
  const h = host.toLowerCase()
  return h === domain || (h.endsWith(`.${domain}`) && !/^[\d.]+$/.test(h))
}

function domainMatches(cookie: Cookie, host: string): boolean {
  return cookie.hostOnly ? cookie.domain === host.toLowerCase() : domainOf(host, cookie.domain)
}

function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/'
}

// Forms: a small regex-based reader for the sandbox's and the service's own simple HTML, not a parser
// for arbitrary pages.

export function parseForms(html: string, pageUrl: string | URL): ParsedForm[] {
  const forms: ParsedForm[] = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = parseAttributes(match[1] ?? '')
    const inner = match[2] ?? ''
    const fields: Record<string, string> = {}
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = parseAttributes(input[1] ?? '')
      const type = (a.type ?? 'text').toLowerCase()
      if (!a.name || a.disabled !== undefined || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue
      if ((type === 'checkbox' || type === 'radio') && a.checked === undefined) continue
      fields[a.name] = a.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : '')
    }
    for (const area of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const a = parseAttributes(area[1] ?? '')
      if (a.name) fields[a.name] = decodeEntities(area[2] ?? '')
    }
    const buttons = [...inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)]
      .map((b) => ({ attrs: parseAttributes(b[1] ?? ''), text: decodeEntities((b[2] ?? '').replace(/<[^>]*>/g, '')).trim() }))
      .filter(({ attrs: a }) => (a.type ?? 'submit').toLowerCase() === 'submit')
      .map(({ attrs: a, text }) => ({ name: a.name, value: a.value ?? '', text, id: a.id }))
    forms.push({
      action: new URL(attrs.action || String(pageUrl), pageUrl).href,
      method: (attrs.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
      id: attrs.id,
      fields,
      buttons,
    })
  }
  return forms
}

export function parseForm(html: string, pageUrl: string | URL): ParsedForm | undefined {
  return parseForms(html, pageUrl)[0]
}

function parseAttributes(source: string): Record<string, string | undefined> {
  const attrs: Record<string, string | undefined> = {}
  for (const m of source.matchAll(/([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    const name = (m[1] ?? '').toLowerCase()
    const raw = m[2] ?? m[3] ?? m[4]
    attrs[name] = raw === undefined ? '' : decodeEntities(raw)
  }
  return attrs
}

/** Decodes HTML character references (numeric, and the few named ones the pages could use). */
export function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10)
      return Number.isNaN(code) ? whole : String.fromCodePoint(code)
    }
    return named[entity.toLowerCase()] ?? whole
  })
}
