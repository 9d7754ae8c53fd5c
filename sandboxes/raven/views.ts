// The sandbox's pages: plain HTML forms with labels, stable names and ids, so a person, Playwright
// (getByLabel / getByRole('button', { name: 'Allow' })) and the cookie-jar TestBrowser can all use them.

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are on Raven',
  profile: 'Your name',
  email: 'Your email address',
  agsync: 'Your Raven (AgSync) data',
  roles: 'Your roles on Raven',
  offline_access: 'Keep access while you are away (a refresh token)',
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin-top:1rem}input{display:block;width:100%;padding:.4rem;margin-top:.25rem}
button{margin-top:1rem;margin-right:.5rem;padding:.5rem 1rem}.error{color:#a00}`

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Raven sandbox</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`
}

export interface LoginView {
  action: string
  clientName: string
  username?: string
  error?: string
}

export function loginPage(view: LoginView): string {
  const error = view.error ? `<p class="error" id="login-error" role="alert">${escapeHtml(view.error)}</p>` : ''
  return layout(
    'Sign in',
    `<h1>Sign in to Raven</h1>
<p>${escapeHtml(view.clientName)} wants to connect to your Raven account.</p>
${error}
<form id="login-form" method="post" action="${escapeHtml(view.action)}">
  <label for="username">Email</label>
  <input id="username" name="username" type="email" autocomplete="username" required value="${escapeHtml(view.username ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button id="sign-in" type="submit">Sign in</button>
</form>`,
  )
}

export interface ConsentView {
  action: string
  clientName: string
  scopes: string[]
}

export function consentPage(view: ConsentView): string {
  const items = view.scopes
    .map((scope) => `<li data-scope="${escapeHtml(scope)}">${escapeHtml(SCOPE_DESCRIPTIONS[scope] ?? scope)} <code>${escapeHtml(scope)}</code></li>`)
    .join('\n  ')
  return layout(
    'Allow access',
    `<h1>Allow ${escapeHtml(view.clientName)} to use your Raven account?</h1>
<p id="scopes-heading">It asks for:</p>
<ul aria-labelledby="scopes-heading">
  ${items}
</ul>
<form id="consent-form" method="post" action="${escapeHtml(view.action)}">
  <button id="allow" name="decision" value="allow" type="submit">Allow</button>
  <button id="decline" name="decision" value="decline" type="submit">Decline</button>
</form>`,
  )
}

export function errorPage(error: string, description: string): string {
  return layout(
    'Error',
    `<h1>Something went wrong</h1>
<p id="error">${escapeHtml(error)}</p>
<p id="error-description">${escapeHtml(description)}</p>
<p>Go back to the application and start connecting Raven again.</p>`,
  )
}

/** An authorization response delivered with `response_mode=form_post` (OAuth 2.0 Form Post Response Mode). */
export function formPostPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n  ')
  return layout(
    'Returning to the application',
    `<form method="post" action="${escapeHtml(action)}">
  ${inputs}
  <button type="submit">Continue</button>
</form>`,
  )
}
