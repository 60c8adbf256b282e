/**
 * The explorer as a fastify plugin, mounted at /explorer on the node's JSON-RPC port (or on its
 * own port by `ai-rollup explorer`). Every page is rendered on the server from JSON-RPC reads;
 * the one script re-fetches the home page's live part. A page that names nothing gets a 404 page,
 * a node that does not answer a 502 page: never a blank page or a crash.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { homeFragment, homePage, addressPage, blockPage, txPage } from './pages/chain.ts';
import { modelPage, modelsPage } from './pages/models.ts';
import { proverPage, proversPage } from './pages/provers.ts';
import { requestPage, requestsPage } from './pages/requests.ts';
import { batchPage, batchesPage } from './pages/rollup.ts';
import { searchTarget } from './search.ts';
import { BASE, CSS, html, page } from './html.ts';
import { type ExplorerRpc, NotFound } from './rpc.ts';

/** Re-renders `#live` from its data-src every 2 s while the tab is visible. */
const LIVE_JS = `(() => {
  const el = document.getElementById('live');
  if (!el || !el.dataset.src) return;
  const tick = async () => {
    if (document.visibilityState === 'visible') {
      try {
        const res = await fetch(el.dataset.src, { cache: 'no-store' });
        if (res.ok) el.innerHTML = await res.text();
      } catch {}
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
})();
`;

/** No inline script or style, nothing from elsewhere, no framing. */
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface ExplorerOptions {
  /** The node to read: resolved per request, since the node's own URL is known only once it listens. */
  rpc(): ExplorerRpc;
  logger: Logger;
  /** Pages rendered at once (default 8), and waiting beyond those (default 64); past both, 503. */
  concurrency?: number;
  queue?: number;
}

/**
 * A page is dozens of JSON-RPC reads: renders take turns, and a flood beyond the queue gets 503
 * at once rather than piling work onto the node.
 */
class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(f: () => Promise<T>): Promise<T | undefined> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) return undefined;
      await new Promise<void>((go) => this.waiting.push(go));
    } else this.running++;
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next(); // the slot passes on
    }
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

type Render = (rpc: ExplorerRpc, params: Record<string, string>, query: Record<string, unknown>) => Promise<string>;

const PAGES: [string, Render][] = [
  ['/', (rpc) => homePage(rpc)],
  ['/fragments/home', (rpc) => homeFragment(rpc)],
  ['/block/:id', (rpc, p) => blockPage(rpc, p.id!)],
  ['/tx/:hash', (rpc, p) => txPage(rpc, p.hash!)],
  ['/address/:address', (rpc, p, q) => addressPage(rpc, p.address!, str(q.before))],
  ['/models', (rpc, _p, q) => modelsPage(rpc, str(q.offset))],
  ['/model/:id', (rpc, p) => modelPage(rpc, p.id!)],
  ['/requests', (rpc, _p, q) => requestsPage(rpc, str(q.before))],
  ['/request/:id', (rpc, p) => requestPage(rpc, p.id!)],
  ['/provers', (rpc) => proversPage(rpc)],
  ['/prover/:address', (rpc, p) => proverPage(rpc, p.address!)],
  ['/batches', (rpc) => batchesPage(rpc)],
  ['/batch/:index', (rpc, p) => batchPage(rpc, p.index!)],
];

function notFound(reply: FastifyReply, what: string) {
  const body = html`<div class="notfound"><h1>Not found</h1><p>Nothing on this chain matches ${what}.</p><p><a href=${`${BASE}/`}>Back to the explorer's home</a></p></div>`;
  return reply.status(404).type('text/html; charset=utf-8').send(page('Not found', body));
}

export async function explorerRoutes(app: FastifyInstance, opts: ExplorerOptions): Promise<void> {
  const log = opts.logger;
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    return payload;
  });
  app.get('/assets/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'max-age=300').send(CSS));
  app.get('/assets/live.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=300').send(LIVE_JS));
  const turns = new Turns(opts.concurrency ?? 8, opts.queue ?? 64);
  app.get('/search', async (req, reply) => {
    const q = str((req.query as Record<string, unknown>).q) ?? '';
    try {
      const target = await turns.run(() => searchTarget(opts.rpc(), q.slice(0, 200)));
      if (target === undefined) return busy(reply);
      return reply.redirect(`${BASE}${target}`, 303);
    } catch (err) {
      return failed(reply, err);
    }
  });
  for (const [path, render] of PAGES) {
    app.get(path, async (req, reply) => {
      try {
        const body = await turns.run(() => render(opts.rpc(), req.params as Record<string, string>, (req.query ?? {}) as Record<string, unknown>));
        if (body === undefined) return busy(reply);
        return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
      } catch (err) {
        return failed(reply, err);
      }
    });
  }
  app.setNotFoundHandler((req, reply) => notFound(reply, `the path ${req.url.slice(0, 120)}`));

  function busy(reply: FastifyReply) {
    const body = html`<div class="notfound"><h1>Busy</h1><p>The explorer is serving as many pages as it may at once. Try again in a moment.</p></div>`;
    return reply.status(503).header('retry-after', '2').type('text/html; charset=utf-8').send(page('Busy', body));
  }

  function failed(reply: FastifyReply, err: unknown) {
    if (err instanceof NotFound) return notFound(reply, err.what);
    const message = (err as Error).message?.split('\n')[0] ?? String(err);
    log.warn({ err: message }, 'explorer page failed');
    const body = html`<div class="notfound"><h1>The node did not answer</h1><p>${message}</p></div>`;
    return reply.status(502).type('text/html; charset=utf-8').send(page('Node error', body));
  }
}
