/**
 * Query parameters as the raw URL has them. Express's parsed `req.query` folds repeats into arrays or
 * keeps one silently; the launch and the callback must refuse a parameter given twice instead (two
 * parsers picking different copies is how parameter-pollution attacks work), so they read here.
 */

/** The query string of a request URL (`req.originalUrl`), parsed without any folding. */
export function rawQueryOf(url: string): URLSearchParams {
  const index = url.indexOf('?')
  return new URLSearchParams(index === -1 ? '' : url.slice(index + 1))
}

/** The value of `name` when it appears exactly once and is not empty; undefined otherwise. */
export function onlyValue(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name)
  return values.length === 1 && values[0] !== '' ? values[0] : undefined
}
