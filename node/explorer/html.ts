/**
 * Server-rendered pages: preact components written with htm's tagged templates (no build step),
 * rendered to strings by preact-render-to-string, which escapes every interpolated value. The
 * layout carries its own CSS and no external asset, so the explorer works offline.
 */
import type { VNode } from 'preact';
import { html } from 'htm/preact';
import { render } from 'preact-render-to-string';
import { formatEther } from 'viem';

export { html };
export type Node = VNode | VNode[] | string | number | null | undefined;

/** Where the explorer is mounted on the node's HTTP port. */
export const BASE = '/explorer';
export const href = (path: string): string => `${BASE}${path}`;

/** Served as /explorer/assets/style.css: the pages' policy allows no inline style or script. */
export const CSS = `
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#3856d6; --bad:#c0362c; --ok:#1f7a4d; --bg:#f8f9fb; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:1.2rem; align-items:center; padding:.6rem 1.2rem; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header .brand { font-weight:700; color:var(--fg); text-decoration:none; }
header nav a { margin-right:.9rem; color:var(--accent); text-decoration:none; }
header form { margin-left:auto; display:flex; gap:.4rem; }
header input { width:28rem; max-width:60vw; padding:.35rem .5rem; border:1px solid var(--line); border-radius:4px; font:inherit; }
main { padding:1rem 1.2rem; max-width:1200px; }
h1 { font-size:1.3rem; margin:.2rem 0 .8rem; word-break:break-all; }
h2 { font-size:1.05rem; margin:1.2rem 0 .5rem; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.35rem .55rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; background:#fcfcfd; }
dl { display:grid; grid-template-columns: 13rem 1fr; gap:.3rem .8rem; background:#fff; border:1px solid var(--line); padding:.7rem; margin:0; }
dt { color:var(--muted); } dd { margin:0; word-break:break-all; }
a { color:var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12.5px; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap:1rem; }
.card { background:#fff; border:1px solid var(--line); padding:.7rem .9rem; }
.card .big { font-size:1.4rem; font-weight:600; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .muted { color:var(--muted); }
.pill { display:inline-block; padding:0 .45rem; border-radius:9px; background:#eef1fb; font-size:12px; }
.pill.bad { background:#fbeeee; } .pill.ok { background:#eaf6ef; }
svg { background:#fff; border:1px solid var(--line); max-width:100%; height:auto; }
.notfound { padding:2rem; background:#fff; border:1px solid var(--line); }
`;

/** A whole page: the header with the section links and the search box, then `body`. */
export function page(title: string, body: Node, opts: { live?: boolean } = {}): string {
  const doc = html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${title} · AI rollup explorer</title>
      <link rel="stylesheet" href=${href('/assets/style.css')} />
      ${opts.live ? html`<script src=${href('/assets/live.js')} defer></script>` : null}
    </head>
    <body>
      <header>
        <a class="brand" href=${href('/')}>AI rollup explorer</a>
        <nav>
          <a href=${href('/')}>Home</a><a href=${href('/models')}>Models</a><a href=${href('/requests')}>Inference requests</a
          ><a href=${href('/provers')}>Provers</a><a href=${href('/batches')}>Batches</a>
        </nav>
        <form action=${href('/search')} method="get" role="search">
          <input name="q" id="search" placeholder="Block, tx hash, address, model id, #request" aria-label="Search" />
          <button type="submit">Search</button>
        </form>
      </header>
      <main>${body}</main>
    </body>
  </html>`;
  return `<!doctype html>${render(doc)}`;
}

/** Just a fragment (the home page's live part). */
export const fragment = (n: Node): string => render(html`<div>${n}</div>`);

export const short = (hex: string, n = 10): string => (hex.length > 2 * n + 2 ? `${hex.slice(0, n + 2)}…${hex.slice(-6)}` : hex);
export const num = (hex: string | bigint | number): bigint => BigInt(hex);
export const eth = (wei: string | bigint): string => `${formatEther(BigInt(wei))} ETH`;
export const when = (ts: string | bigint): string => new Date(Number(BigInt(ts)) * 1000).toISOString().replace('.000Z', 'Z');

export const blockLink = (n: string | bigint) => html`<a href=${href(`/block/${num(n)}`)}>${num(n).toString()}</a>`;
export const txLink = (h: string) => html`<a class="mono" href=${href(`/tx/${h}`)}>${short(h)}</a>`;
export const addrLink = (a: string | null | undefined) => (a ? html`<a class="mono" href=${href(`/address/${a}`)}>${short(a, 8)}</a>` : html`<span class="muted">—</span>`);
export const modelLink = (id: string) => html`<a class="mono" href=${href(`/model/${id}`)}>${short(id)}</a>`;
export const requestLink = (id: string | bigint) => html`<a href=${href(`/request/${num(id)}`)}>#${num(id).toString()}</a>`;
export const proverLink = (a: string) => html`<a class="mono" href=${href(`/prover/${a}`)}>${short(a, 8)}</a>`;
export const status = (ok: boolean, yes = 'success', no = 'failed') => html`<span class=${`pill ${ok ? 'ok' : 'bad'}`}>${ok ? yes : no}</span>`;
