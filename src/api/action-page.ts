import { createHash } from 'node:crypto';
import type { HttpProblem } from './problem.js';

/** What the action page shows of an alert. */
export interface ActionPageAlert {
  summary: string;
  severity: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}' +
  'h1{font-size:1.3rem}.status{font-weight:bold}form{display:inline-block;margin-right:.75rem}' +
  'button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}';

/**
 * The page loads nothing and runs nothing: its only style is allowed by hash, and its forms may post only back to
 * AlertOps. It is about one alert and carries a credential in its address, so it is never cached nor sent as a referrer.
 */
const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
};

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => escapes[character]!);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

/**
 * The alert with the actions still open to it. Forms name their target relative to the page (`<token>/<action>`
 * from `/a/<token>`), so the page works behind a proxy that serves AlertOps under a path.
 */
export function actionPage(token: string, alert: ActionPageAlert): { html: string; headers: Record<string, string> } {
  const action = (name: 'acknowledge' | 'resolve', label: string) =>
    `<form method="post" action="${escapeHtml(token)}/${name}"><button type="submit" id="${name}">${label}</button></form>`;
  const actions = [alert.status === 'triggered' ? action('acknowledge', 'Acknowledge') : '', alert.status !== 'resolved' ? action('resolve', 'Resolve') : ''].join('');
  const html = page(
    `AlertOps: ${alert.summary}`,
    `<h1>${escapeHtml(alert.summary)}</h1>
<p>Severity: ${escapeHtml(alert.severity)}</p>
<p>Status: <span class="status" id="status">${escapeHtml(alert.status)}</span></p>
${actions}`,
  );
  return { html, headers: PAGE_HEADERS };
}

/** A problem as a page: the link is refused, and nothing was done. */
export function actionErrorPage(problem: HttpProblem): { html: string; headers: Record<string, string> } {
  const html = page(`AlertOps: ${problem.title}`, `<h1>${escapeHtml(problem.title)}</h1>\n<p>${escapeHtml(problem.message)}</p>${problem.status < 500 ? '\n<p>Nothing was changed.</p>' : ''}`);
  return { html, headers: PAGE_HEADERS };
}
