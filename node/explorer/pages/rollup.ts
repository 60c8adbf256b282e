/**
 * The rollup's standing on L1: the newest batches (rollup_getBatch: L1 transaction, blocks
 * covered, calldata bytes, L1 gas) and outputs (rollup_getOutput: root, challenge window left,
 * finalized), and one batch with the outputs over it. A node without L1 says so.
 */
import { type Hex, toHex } from 'viem';
import { type Node, blockLink, href, html, num, page, short, when } from '../html.ts';
import { type ExplorerRpc, NotFound } from '../rpc.ts';

const PAGE = 20n;

interface SyncStatus {
  safe: { number: Hex };
  finalized: { number: Hex };
  l1Head: Hex;
  batchCount: Hex;
  outputCount: Hex;
}

interface Batch {
  index: Hex;
  hash: Hex;
  firstBlock: Hex;
  lastBlock: Hex;
  depositCount: Hex;
  l1Block: Hex;
  l1Timestamp: Hex;
  l1TransactionHash: Hex | null;
  l1GasUsed: Hex | null;
  l1CalldataBytes: Hex | null;
}

interface Output {
  index: Hex;
  batchIndex: Hex;
  outputRoot: Hex;
  l2Block: Hex;
  l1Timestamp: Hex;
  finalized: boolean;
  challengeWindowEnds: Hex;
}

const noL1 = () => page('Batches', html`<h1>Batches and outputs</h1><p class="notfound">This node has no L1 (a dev chain): nothing is batched.</p>`);

function windowLeft(o: Output): Node {
  if (o.finalized) return html`<span class="pill ok">finalized</span>`;
  const left = num(o.challengeWindowEnds) - BigInt(Math.floor(Date.now() / 1000));
  return left <= 0n ? html`<span class="pill">window over, not finalized yet</span>` : html`<span class="pill">${left.toString()} s of challenge window left</span>`;
}

const batchRow = (b: Batch) => html`<tr>
  <td><a href=${href(`/batch/${num(b.index)}`)}>${num(b.index).toString()}</a></td>
  <td>${blockLink(b.firstBlock)}–${blockLink(b.lastBlock)}</td><td>${num(b.depositCount).toString()}</td>
  <td>${num(b.l1Block).toString()}</td><td>${when(b.l1Timestamp)}</td>
  <td class="mono">${b.l1TransactionHash === null ? '—' : short(b.l1TransactionHash)}</td>
  <td>${b.l1CalldataBytes === null ? '—' : num(b.l1CalldataBytes).toLocaleString('en-US')}</td><td>${b.l1GasUsed === null ? '—' : num(b.l1GasUsed).toLocaleString('en-US')}</td>
</tr>`;

const batchHead = html`<thead><tr><th>Batch</th><th>L2 blocks</th><th>Deposits</th><th>L1 block</th><th>L1 time</th><th>L1 transaction</th><th>Calldata bytes</th><th>L1 gas</th></tr></thead>`;

const outputTable = (outputs: Output[]) => html`<table>
  <thead><tr><th>Output</th><th>Batch</th><th>L2 block</th><th>Output root</th><th>Proposed (L1 time)</th><th>State</th></tr></thead>
  <tbody>
    ${outputs.length === 0 ? html`<tr><td colspan="6" class="muted">none</td></tr>` : null}
    ${outputs.map(
      (o) => html`<tr><td>${num(o.index).toString()}</td><td><a href=${href(`/batch/${num(o.batchIndex)}`)}>${num(o.batchIndex).toString()}</a></td><td>${blockLink(o.l2Block)}</td>
        <td class="mono">${short(o.outputRoot)}</td><td>${when(o.l1Timestamp)}</td><td>${windowLeft(o)}</td></tr>`,
    )}
  </tbody>
</table>`;

const newest = (count: bigint) => Array.from({ length: Number(count < PAGE ? count : PAGE) }, (_, i) => count - 1n - BigInt(i));

export async function batchesPage(rpc: ExplorerRpc): Promise<string> {
  const sync = await rpc.optional<SyncStatus>('rollup_syncStatus');
  if (sync === undefined) return noL1();
  const [batches, outputs] = await Promise.all([
    Promise.all(newest(num(sync.batchCount)).map((i) => rpc.call<Batch | null>('rollup_getBatch', [toHex(i)]))),
    Promise.all(newest(num(sync.outputCount)).map((i) => rpc.call<Output | null>('rollup_getOutput', [toHex(i)]))),
  ]);
  return page(
    'Batches',
    html`<h1>Batches and outputs</h1>
      <dl>
        <dt>Batches on L1</dt><dd>${num(sync.batchCount).toString()}</dd>
        <dt>Outputs on L1</dt><dd>${num(sync.outputCount).toString()}</dd>
        <dt>Safe L2 block</dt><dd>${blockLink(sync.safe.number)}</dd>
        <dt>Finalized L2 block</dt><dd>${blockLink(sync.finalized.number)}</dd>
        <dt>L1 head</dt><dd>${num(sync.l1Head).toString()}</dd>
      </dl>
      <h2>Newest batches</h2>
      <table>${batchHead}<tbody>${batches.filter((b): b is Batch => b !== null).map(batchRow)}</tbody></table>
      <h2>Newest outputs</h2>
      ${outputTable(outputs.filter((o): o is Output => o !== null))}`,
  );
}

export async function batchPage(rpc: ExplorerRpc, indexParam: string): Promise<string> {
  if (!/^\d{1,15}$/.test(indexParam)) throw new NotFound(`batch ${indexParam}`);
  const sync = await rpc.optional<SyncStatus>('rollup_syncStatus');
  if (sync === undefined) return noL1();
  const index = BigInt(indexParam);
  const b = await rpc.call<Batch | null>('rollup_getBatch', [toHex(index)]);
  if (b === null) throw new NotFound(`batch ${index}`);
  // outputs follow batches in order: the newest few hold this batch's, if it has one
  const count = num(sync.outputCount);
  const near = Array.from({ length: Number(count < PAGE ? count : PAGE) }, (_, i) => (index + 2n >= count ? count - 1n - BigInt(i) : index + 2n - BigInt(i))).filter(
    (i) => i >= 0n,
  );
  const outputs = (await Promise.all(near.map((i) => rpc.call<Output | null>('rollup_getOutput', [toHex(i)])))).filter(
    (o): o is Output => o !== null && num(o.batchIndex) === index,
  );
  const safe = num(b.lastBlock) <= num(sync.safe.number);
  return page(
    `Batch ${index}`,
    html`<h1>Batch ${index.toString()}</h1>
      <dl>
        <dt>Batch hash</dt><dd class="mono">${b.hash}</dd>
        <dt>L2 blocks</dt><dd>${blockLink(b.firstBlock)} to ${blockLink(b.lastBlock)} (${(num(b.lastBlock) - num(b.firstBlock) + 1n).toString()})</dd>
        <dt>Deposits consumed</dt><dd>${num(b.depositCount).toString()}</dd>
        <dt>L1 block</dt><dd>${num(b.l1Block).toString()} at ${when(b.l1Timestamp)}</dd>
        <dt>L1 transaction</dt><dd class="mono">${b.l1TransactionHash ?? '—'}</dd>
        <dt>Calldata</dt><dd>${b.l1CalldataBytes === null ? '—' : `${num(b.l1CalldataBytes).toLocaleString('en-US')} bytes`}</dd>
        <dt>L1 gas used</dt><dd>${b.l1GasUsed === null ? '—' : num(b.l1GasUsed).toLocaleString('en-US')}</dd>
        <dt>Its blocks are</dt><dd>${safe ? 'safe' : 'not yet derived as safe by this node'}${num(b.lastBlock) <= num(sync.finalized.number) ? ', finalized' : ''}</dd>
      </dl>
      <h2>Outputs over it</h2>
      ${outputTable(outputs)}`,
  );
}
