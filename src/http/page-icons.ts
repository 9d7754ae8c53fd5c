/*
 * One picture per outcome, as inline SVG markup (no request, no inline style: colour comes from
 * page.css through currentColor). Decorative: the heading says the same in words.
 */
export type PageVisual = 'connected' | 'pending' | 'declined' | 'error' | 'expired'

const PATHS: Record<PageVisual, string> = {
  // A tick in a circle.
  connected: '<circle cx="12" cy="12" r="10"/><path d="m7.5 12.5 3 3 6-6.5"/>',
  // A clock: saving, not finished yet.
  pending: '<circle cx="12" cy="12" r="10"/><path d="M12 7v5l3.5 2"/>',
  // A bar in a circle: the grower chose "no"; not an alarm.
  declined: '<circle cx="12" cy="12" r="10"/><path d="M8 12h8"/>',
  // A warning triangle.
  error: '<path d="M10.3 3.9 2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/><path d="M12 9v4"/><path d="M12 17h.01"/>',
  // An hourglass: the link ran out.
  expired: '<path d="M6 3h12M6 21h12"/><path d="M7 3c0 5 5 6 5 9s-5 4-5 9M17 3c0 5-5 6-5 9s5 4 5 9"/>',
}

export function outcomeIcon(visual: PageVisual): string {
  return (
    `<svg class="icon" viewBox="0 0 24 24" width="56" height="56" fill="none" stroke="currentColor" stroke-width="2" ` +
    `stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${PATHS[visual]}</svg>`
  )
}
