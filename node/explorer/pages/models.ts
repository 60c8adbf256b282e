/**
 * The model registry's pages: the list (ai_listModels, paged) and a model (ai_getModel, the
 * artifacts this node holds, its lineage from the registry's parent and latest links, and its
 * use in the market over a bounded window of recent blocks).
 */
import { type Hex, encodeEventTopics, isHash, toHex } from 'viem';
import { marketAbi } from '../../../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../../contracts/predeploys.ts';
import { type LineageNode, lineageGraph } from '../charts.ts';
import { addrLink, blockLink, href, html, modelLink, num, page, requestLink, short, when } from '../html.ts';
import { type ExplorerRpc, NotFound } from '../rpc.ts';

/** Recent blocks a model's usage is counted over: a bounded read, never the whole chain. */
export const USAGE_WINDOW = 10_000n;
/** Logs a page reads at most for a count over the window (the newest first): past it, "N+". */
export const USAGE_MAX = 200;
const PAGE = 50;
/** Versions followed up a line: the registry allows any depth, a page shows this many. */
const MAX_LINEAGE = 24;

export interface Model {
  modelId: Hex;
  owner: Hex;
  version: Hex;
  deprecated: boolean;
  hasWeights: boolean;
  registeredAt: Hex;
  parent: Hex;
  latest: Hex;
  metadataURI: string;
  publicInputs: Hex;
  verifyingKeyHash: Hex;
}

interface Artifacts {
  inputMode: string | null;
  constraints: number | null;
  manifest: { sha256: string; size: Hex; url: string };
  artifacts: { name: string; sha256: string; size: Hex; url: string }[];
}

const ZERO = `0x${'0'.repeat(64)}`;
type MarketEvent = 'InferenceRequested' | 'InferenceFulfilled' | 'Claimed' | 'ClaimMissed' | 'ProofRejected' | 'Refunded';
const TOPICS = new Map<MarketEvent, Hex>();
/** A market event's topic 0. */
export const topic = (event: MarketEvent): Hex => {
  let t = TOPICS.get(event);
  if (t === undefined) TOPICS.set(event, (t = encodeEventTopics({ abi: marketAbi, eventName: event })[0] as Hex));
  return t;
};

export async function modelsPage(rpc: ExplorerRpc, offsetParam?: string): Promise<string> {
  const offset = offsetParam !== undefined && /^\d{1,9}$/.test(offsetParam) ? Number(offsetParam) : 0;
  const list = await rpc.call<{ total: Hex; models: (Model | null)[]; nextOffset: Hex | null }>('ai_listModels', [toHex(offset), toHex(PAGE)]);
  const models = list.models.filter((m): m is Model => m !== null);
  return page(
    'Models',
    html`<h1>Models <span class="muted">(${num(list.total).toString()} registered)</span></h1>
      <table>
        <thead><tr><th>Model id</th><th>Version</th><th>Owner</th><th>Public inputs</th><th>Weights</th><th>Registered</th><th>State</th></tr></thead>
        <tbody>
          ${models.length === 0 ? html`<tr><td colspan="7" class="muted">none</td></tr>` : null}
          ${models.map(
            (m) => html`<tr>
              <td>${modelLink(m.modelId)}</td><td>${num(m.version).toString()}</td><td>${addrLink(m.owner)}</td><td>${num(m.publicInputs).toString()}</td>
              <td>${m.hasWeights ? 'published' : html`<span class="muted">private</span>`}</td><td>${when(m.registeredAt)}</td>
              <td>${m.deprecated ? html`<span class="pill bad">deprecated</span>` : m.latest.toLowerCase() === m.modelId.toLowerCase() ? html`<span class="pill ok">latest</span>` : html`<span class="pill">superseded</span>`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <p>
        ${offset > 0 ? html`<a href=${href(`/models?offset=${Math.max(0, offset - PAGE)}`)}>← Previous</a> ` : null}
        ${list.nextOffset === null ? null : html`<a href=${href(`/models?offset=${num(list.nextOffset)}`)}>Next →</a>`}
      </p>`,
  );
}

/** The versions around `m`: its ancestors, and the line from its latest version back. */
async function lineage(rpc: ExplorerRpc, m: Model): Promise<LineageNode[]> {
  const seen = new Map<string, Model>([[m.modelId.toLowerCase(), m]]);
  const follow = async (from: Hex) => {
    for (let id = from, i = 0; id !== ZERO && i < MAX_LINEAGE; i++) {
      const known = seen.get(id.toLowerCase());
      const got = known ?? (await rpc.call<Model | null>('ai_getModel', [id]));
      if (got === null) return;
      seen.set(id.toLowerCase(), got);
      id = got.parent;
    }
  };
  await follow(m.parent);
  if (m.latest !== ZERO && m.latest.toLowerCase() !== m.modelId.toLowerCase()) await follow(m.latest);
  const nodes = [...seen.values()].sort((a, b) => Number(num(a.version) - num(b.version)));
  return nodes.map((n) => ({
    id: n.modelId.toLowerCase(),
    label: `v${num(n.version)} ${short(n.modelId, 6)}`,
    parent: n.parent === ZERO ? undefined : n.parent.toLowerCase(),
    current: n.modelId.toLowerCase() === m.modelId.toLowerCase(),
    href: href(`/model/${n.modelId}`),
  }));
}

export async function modelPage(rpc: ExplorerRpc, id: string): Promise<string> {
  if (!isHash(id)) throw new NotFound(`model ${id}`);
  const m = await rpc.call<Model | null>('ai_getModel', [id]);
  if (m === null) throw new NotFound(`model ${id}`);
  const head = await rpc.head();
  const [artifacts, graph, usage] = await Promise.all([
    rpc.optional<Artifacts | null>('ai_modelArtifacts', [id]),
    lineage(rpc, m),
    rpc.recentLogs({ address: INFERENCE_MARKET_ADDRESS, topics: [topic('InferenceRequested'), null, id] }, head, { window: USAGE_WINDOW, max: USAGE_MAX }),
  ]);
  const requested = usage.logs;
  const from = usage.from;
  const recent = requested.slice(-10).reverse();
  return page(
    `Model ${short(id)}`,
    html`<h1>Model <span class="mono">${m.modelId}</span></h1>
      <dl>
        <dt>Owner</dt><dd>${addrLink(m.owner)}</dd>
        <dt>Version</dt><dd>${num(m.version).toString()} ${m.deprecated ? html`<span class="pill bad">deprecated</span>` : null}</dd>
        <dt>Parent</dt><dd>${m.parent === ZERO ? html`<span class="muted">none (a first version)</span>` : modelLink(m.parent)}</dd>
        <dt>Latest of its line</dt><dd>${m.latest.toLowerCase() === m.modelId.toLowerCase() ? 'this version' : modelLink(m.latest)}</dd>
        <dt>Registered</dt><dd>${when(m.registeredAt)}</dd>
        <dt>Public inputs</dt><dd>${num(m.publicInputs).toString()}</dd>
        <dt>Verifying key hash</dt><dd class="mono">${m.verifyingKeyHash}</dd>
        <dt>Weights</dt><dd>${m.hasWeights ? 'published on chain' : 'not published'}</dd>
        <dt>Metadata</dt><dd>${m.metadataURI === '' ? html`<span class="muted">none</span>` : m.metadataURI}</dd>
        <dt>Input mode</dt><dd>${artifacts?.inputMode ?? html`<span class="muted">unknown (this node holds no artifacts for it)</span>`}</dd>
        ${artifacts?.constraints ? html`<dt>Constraints</dt><dd>${artifacts.constraints.toLocaleString('en-US')}</dd>` : null}
        <dt>Requests</dt><dd>${requested.length}${usage.capped ? '+' : ''} in blocks ${from.toString()}–${head.toString()}</dd>
      </dl>
      ${lineageGraph(graph)}
      <h2>Artifacts</h2>
      ${
        artifacts === undefined || artifacts === null
          ? html`<p class="muted">this node holds none for this model</p>`
          : html`<table>
            <thead><tr><th>Name</th><th>Size</th><th>sha256</th></tr></thead>
            <tbody>
              <tr><td><a href=${rpc.artifactUrl(artifacts.manifest.url)}>manifest</a></td><td>${num(artifacts.manifest.size).toLocaleString('en-US')} bytes</td><td class="mono">${artifacts.manifest.sha256}</td></tr>
              ${artifacts.artifacts.map((a) => html`<tr><td><a href=${rpc.artifactUrl(a.url)}>${a.name}</a></td><td>${num(a.size).toLocaleString('en-US')} bytes</td><td class="mono">${a.sha256}</td></tr>`)}
            </tbody>
          </table>`
      }
      <h2>Recent requests</h2>
      ${
        recent.length === 0
          ? html`<p class="muted">none in the window</p>`
          : html`<table>
            <thead><tr><th>Request</th><th>Block</th><th>Requester</th></tr></thead>
            <tbody>
              ${recent.map((l) => html`<tr><td>${requestLink(l.topics[1]!)}</td><td>${l.blockNumber === undefined ? '' : blockLink(l.blockNumber)}</td><td>${addrLink(`0x${l.topics[3]!.slice(26)}`)}</td></tr>`)}
            </tbody>
          </table>`
      }`,
  );
}
