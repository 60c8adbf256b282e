/**
 * The inference market's requests: the newest first (ai_getInferenceRequest for each, with
 * latency and fee charts and requests per block), and one request with its status, outputs,
 * prover, every market event about it and its result's standing on L1 (ai_getInferenceProof).
 */
import { type Hex, decodeEventLog, toHex } from 'viem';
import { marketAbi } from '../../../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../../contracts/predeploys.ts';
import { barChart } from '../charts.ts';
import { decodeLog } from '../decode.ts';
import { type Node, addrLink, blockLink, eth, href, html, modelLink, num, page, proverLink, requestLink, txLink, when } from '../html.ts';
import { type ExplorerRpc, NotFound } from '../rpc.ts';
import { USAGE_WINDOW, topic } from './models.ts';

const PAGE = 25n;
/** Blocks of the requests-per-block chart. */
const RATE_BLOCKS = 600n;
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

interface Located {
  blockNumber: Hex;
  blockHash: Hex;
  timestamp: Hex;
  transactionHash: Hex | null;
}

export interface InferenceRequest {
  id: Hex;
  requester: Hex;
  modelId: Hex;
  fee: Hex;
  status: 'open' | 'fulfilled' | 'refunded' | 'none';
  deadline: Hex;
  callback: Hex;
  claimant: Hex;
  claimedUntil: Hex;
  prover: Hex;
  inputSignals: Hex[];
  outputs: Hex[];
  requested: Located | null;
  fulfilled: Located | null;
}

/** What a person wants to know of an open request: claimed now, expired, or waiting. */
export function requestState(r: InferenceRequest, now: bigint): { label: string; ok?: boolean } {
  if (r.status === 'fulfilled') return { label: 'fulfilled', ok: true };
  if (r.status === 'refunded') return { label: 'refunded', ok: false };
  if (num(r.deadline) < now) return { label: 'expired (refundable)', ok: false };
  if (r.claimant !== ZERO_ADDRESS && num(r.claimedUntil) >= now) return { label: 'claimed' };
  return { label: 'open' };
}

const pill = (s: { label: string; ok?: boolean }) => html`<span class=${`pill${s.ok === undefined ? '' : s.ok ? ' ok' : ' bad'}`}>${s.label}</span>`;
const latency = (r: InferenceRequest): bigint | undefined => (r.requested && r.fulfilled ? num(r.fulfilled.timestamp) - num(r.requested.timestamp) : undefined);
const nowSeconds = () => BigInt(Math.floor(Date.now() / 1000));

export async function requestsPage(rpc: ExplorerRpc, beforeParam?: string): Promise<string> {
  const count = await rpc.read<bigint>(INFERENCE_MARKET_ADDRESS, marketAbi, 'requestCount');
  const before = beforeParam !== undefined && /^\d{1,15}$/.test(beforeParam) && BigInt(beforeParam) <= count + 1n ? BigInt(beforeParam) : count + 1n;
  const ids: bigint[] = [];
  for (let id = before - 1n; id >= 1n && BigInt(ids.length) < PAGE; id--) ids.push(id);
  const head = await rpc.head();
  const from = head >= RATE_BLOCKS ? head - RATE_BLOCKS + 1n : 0n;
  const [requests, recentLogs] = await Promise.all([
    Promise.all(ids.map((id) => rpc.call<InferenceRequest | null>('ai_getInferenceRequest', [toHex(id)]))),
    rpc.logs({ address: INFERENCE_MARKET_ADDRESS, topics: [topic('InferenceRequested')], fromBlock: from, toBlock: head }),
  ]);
  const shown = requests.filter((r): r is InferenceRequest => r !== null);
  const now = nowSeconds();
  const buckets = 60n;
  const span = (head - from + 1n + buckets - 1n) / buckets;
  const perBucket = Array.from({ length: Number(buckets) }, (_, i) => ({ from: from + BigInt(i) * span, n: 0 })).filter((b) => b.from <= head);
  for (const l of recentLogs) {
    const b = perBucket[Number((num(l.blockNumber ?? '0x0') - from) / span)];
    if (b !== undefined) b.n++;
  }
  const oldest = shown.at(-1);
  const chronological = shown.slice().reverse();
  return page(
    'Inference requests',
    html`<h1>Inference requests <span class="muted">(${count.toString()} in all)</span></h1>
      ${barChart(
        `Requests per ${span} block${span === 1n ? '' : 's'}, blocks ${from}–${head}`,
        perBucket.map((b) => ({ label: `#${b.from}`, value: b.n, href: href(`/block/${b.from}`) })),
      )}
      ${barChart(
        'Latency, request to fulfilment (seconds), these requests',
        chronological.map((r) => ({ label: `#${num(r.id)}`, value: Number(latency(r) ?? 0n), href: href(`/request/${num(r.id)}`) })),
        { unit: ' s' },
      )}
      ${barChart(
        'Fee (gwei), these requests',
        chronological.map((r) => ({ label: `#${num(r.id)}`, value: Number(num(r.fee) / 1_000_000n) / 1000, href: href(`/request/${num(r.id)}`) })),
        { unit: ' gwei' },
      )}
      <table>
        <thead><tr><th>Request</th><th>Model</th><th>Requester</th><th>Fee</th><th>Status</th><th>Prover</th><th>Requested</th><th>Latency</th></tr></thead>
        <tbody>
          ${shown.length === 0 ? html`<tr><td colspan="8" class="muted">none</td></tr>` : null}
          ${shown.map(
            (r) => html`<tr>
              <td>${requestLink(r.id)}</td><td>${modelLink(r.modelId)}</td><td>${addrLink(r.requester)}</td><td>${eth(r.fee)}</td><td>${pill(requestState(r, now))}</td>
              <td>${r.prover === ZERO_ADDRESS ? html`<span class="muted">—</span>` : proverLink(r.prover)}</td>
              <td>${r.requested === null ? '' : blockLink(r.requested.blockNumber)}</td><td>${latency(r) === undefined ? '' : `${latency(r)} s`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${oldest !== undefined && num(oldest.id) > 1n ? html`<p><a href=${href(`/requests?before=${num(oldest.id)}`)}>Older →</a></p>` : null}`,
  );
}

interface ProofStatus {
  batch: { index: Hex; l1Block: Hex; l1TransactionHash: Hex | null } | null;
  oracle: { l1Block: Hex } | null;
  attested: boolean;
  output: { index: Hex; finalized: boolean } | null;
  final: boolean;
}

/** The result's standing on L1, step by step, or why it cannot be said. */
async function l1Status(rpc: ExplorerRpc, id: bigint, fulfilled: boolean): Promise<Node> {
  if (!fulfilled) return html`<span class="muted">not fulfilled yet</span>`;
  let p: ProofStatus | null | undefined;
  try {
    p = await rpc.optional<ProofStatus | null>('ai_getInferenceProof', [toHex(id)]);
  } catch (err) {
    return html`<span class="bad">cannot say: ${(err as Error).message.split('\n')[0]}</span>`;
  }
  if (p === undefined) return html`<span class="muted">this node does not serve ai_getInferenceProof</span>`;
  if (p === null) return html`<span class="muted">no block of this chain fulfilled it</span>`;
  const step = (done: boolean, text: Node) => html`<li class=${done ? 'ok' : 'muted'}>${done ? '✓' : '…'} ${text}</li>`;
  return html`<ul>
    ${step(p.batch !== null, p.batch === null ? 'in a batch on L1' : html`in batch <a href=${href(`/batch/${num(p.batch.index)}`)}>${num(p.batch.index).toString()}</a> (L1 block ${num(p.batch.l1Block).toString()})`)}
    ${step(p.oracle !== null || p.attested, p.oracle !== null ? html`proof verified by the L1 inference oracle (L1 block ${num(p.oracle.l1Block).toString()})` : p.attested ? 'batch results attested on L1' : 'verified by the L1 oracle')}
    ${step(p.output !== null, p.output === null ? 'covered by an output on L1' : html`covered by output ${num(p.output.index).toString()}`)}
    ${step(p.final, 'final (challenge window over)')}
  </ul>`;
}

export async function requestPage(rpc: ExplorerRpc, idParam: string): Promise<string> {
  const m = /^#?(\d{1,30})$/.exec(idParam);
  if (m === null || BigInt(m[1]!) === 0n || BigInt(m[1]!) >= 1n << 256n) throw new NotFound(`inference request ${idParam}`);
  const id = BigInt(m[1]!);
  const r = await rpc.call<InferenceRequest | null>('ai_getInferenceRequest', [toHex(id)]);
  if (r === null) throw new NotFound(`inference request ${id}`);
  const head = await rpc.head();
  const start = r.requested === null ? (head >= USAGE_WINDOW ? head - USAGE_WINDOW + 1n : 0n) : num(r.requested.blockNumber);
  const end = r.fulfilled === null ? (start + USAGE_WINDOW - 1n < head ? start + USAGE_WINDOW - 1n : head) : num(r.fulfilled.blockNumber);
  const idTopic = toHex(id, { size: 32 });
  const [events, proof] = await Promise.all([
    rpc.logs({ address: INFERENCE_MARKET_ADDRESS, topics: [null, idTopic], fromBlock: start, toBlock: end }),
    l1Status(rpc, id, r.status === 'fulfilled'),
  ]);
  const rejected = events.filter((l) => l.topics[0] === topic('ProofRejected')).length;
  const lat = latency(r);
  return page(
    `Inference request #${id}`,
    html`<h1>Inference request #${id.toString()}</h1>
      <dl>
        <dt>Status</dt><dd>${pill(requestState(r, nowSeconds()))} ${rejected > 0 ? html`<span class="pill bad">${rejected} proof${rejected === 1 ? '' : 's'} rejected</span>` : null}</dd>
        <dt>Model</dt><dd>${modelLink(r.modelId)}</dd>
        <dt>Requester</dt><dd>${addrLink(r.requester)}</dd>
        <dt>Fee</dt><dd>${eth(r.fee)}</dd>
        <dt>Deadline</dt><dd>${when(r.deadline)}</dd>
        <dt>Requested</dt><dd>${r.requested === null ? '—' : html`block ${blockLink(r.requested.blockNumber)} at ${when(r.requested.timestamp)}${r.requested.transactionHash ? html` in ${txLink(r.requested.transactionHash)}` : null}`}</dd>
        <dt>Claimant</dt><dd>${r.claimant === ZERO_ADDRESS ? html`<span class="muted">none</span>` : html`${proverLink(r.claimant)} until ${when(r.claimedUntil)}`}</dd>
        <dt>Prover</dt><dd>${r.prover === ZERO_ADDRESS ? html`<span class="muted">none yet</span>` : proverLink(r.prover)}</dd>
        <dt>Fulfilled</dt><dd>${r.fulfilled === null ? '—' : html`block ${blockLink(r.fulfilled.blockNumber)} at ${when(r.fulfilled.timestamp)}${r.fulfilled.transactionHash ? html` in ${txLink(r.fulfilled.transactionHash)}` : null}${lat === undefined ? null : ` (${lat} s after the request)`}`}</dd>
        <dt>Outputs</dt><dd class="mono">${r.outputs.length === 0 ? '—' : `[${r.outputs.map((o) => num(o).toString()).join(', ')}]`}</dd>
        <dt>Input signals</dt><dd class="mono">${
          r.inputSignals.length > 32
            ? `[${r.inputSignals
                .slice(0, 32)
                .map((o) => num(o).toString())
                .join(', ')}, …] (${r.inputSignals.length})`
            : `[${r.inputSignals.map((o) => num(o).toString()).join(', ')}]`
        }</dd>
        <dt>Callback</dt><dd>${r.callback === ZERO_ADDRESS ? html`<span class="muted">none</span>` : addrLink(r.callback)}</dd>
        <dt>Result on L1</dt><dd>${proof}</dd>
      </dl>
      <h2>Market events</h2>
      <table>
        <thead><tr><th>Block</th><th>Transaction</th><th>Event</th></tr></thead>
        <tbody>
          ${events.map((l) => {
            const d = decodeLog(l);
            return html`<tr><td>${l.blockNumber === undefined ? '' : blockLink(l.blockNumber)}</td><td>${l.transactionHash === undefined ? '' : txLink(l.transactionHash)}</td>
              <td>${d === undefined ? l.topics[0] : html`<b>${d.name}</b> ${d.args.filter(([k]) => k !== 'proof' && k !== 'inputSignals').map(([k, v]) => html`${k}: <span class="mono">${v}</span> `)}`}</td></tr>`;
          })}
        </tbody>
      </table>`,
  );
}

/** A fulfilment's fee, from its log (the fee is not indexed). */
export function fulfilmentFee(data: Hex, topics: Hex[]): bigint {
  const d = decodeEventLog({ abi: marketAbi, eventName: 'InferenceFulfilled', topics: topics as [Hex, ...Hex[]], data });
  return (d.args as { fee: bigint }).fee;
}
