/**
 * The chain's pages: home (heads, recent blocks and transactions, block fullness, L1 status; its
 * live part re-rendered as a fragment), a block, a transaction (decoded logs, revert reason), an
 * address (balance, code, creator, history from the node's address index).
 */
import { type Hex, isAddress, isHash } from 'viem';
import { barChart } from '../charts.ts';
import { decodeLog, decodeRevert } from '../decode.ts';
import { type Node, addrLink, blockLink, eth, fragment, href, html, num, page, short, status, txLink, when } from '../html.ts';
import { type ExplorerRpc, NotFound, type RpcReceipt, type RpcTx } from '../rpc.ts';

/** Blocks shown in the home page's chart. */
const CHART_BLOCKS = 60n;

interface SyncStatus {
  unsafe: { number: Hex };
  safe: { number: Hex };
  finalized: { number: Hex };
  l1Head: Hex;
  batchCount: Hex;
  outputCount: Hex;
}

export async function homePage(rpc: ExplorerRpc): Promise<string> {
  return page('Home', html`<div id="live" data-src=${href('/fragments/home')}>${await homeLive(rpc)}</div>`, { live: true });
}

export async function homeFragment(rpc: ExplorerRpc): Promise<string> {
  return fragment(await homeLive(rpc));
}

async function homeLive(rpc: ExplorerRpc): Promise<Node> {
  const head = await rpc.block('latest');
  const n = num(head.number);
  const from = n >= CHART_BLOCKS ? n - CHART_BLOCKS + 1n : 0n;
  const numbers = Array.from({ length: Number(n - from + 1n) }, (_, i) => from + BigInt(i));
  const [blocks, sync] = await Promise.all([Promise.all(numbers.map((b) => rpc.block(b, b > n - 10n))), rpc.optional<SyncStatus>('rollup_syncStatus')]);
  const recent = blocks.slice(-10).reverse();
  const txs = recent.flatMap((b) => (b.transactions as RpcTx[]).slice().reverse()).slice(0, 10);
  const card = (title: string, value: Node, note?: Node) => html`<div class="card"><div class="muted">${title}</div><div class="big">${value}</div>${note}</div>`;
  return html`
    <h1>AI rollup</h1>
    <div class="grid">
      ${card('Latest block', blockLink(head.number), html`<div class="muted">${when(head.timestamp)}</div>`)}
      ${card('Safe (in a batch on L1)', sync === undefined ? html`<span class="muted">no L1 (dev chain)</span>` : blockLink(sync.safe.number))}
      ${card('Finalized', sync === undefined ? html`<span class="muted">no L1 (dev chain)</span>` : blockLink(sync.finalized.number))}
      ${card(
        'L1',
        sync === undefined ? html`<span class="muted">—</span>` : html`<a href=${href('/batches')}>${num(sync.batchCount).toString()} batches</a>`,
        sync === undefined ? undefined : html`<div class="muted">${num(sync.outputCount).toString()} outputs · L1 head ${num(sync.l1Head).toString()}</div>`,
      )}
    </div>
    ${barChart(
      `Gas used per block (% of the limit), blocks ${from}–${n}`,
      blocks.map((b) => ({ label: `#${num(b.number)}`, value: Number((num(b.gasUsed) * 10_000n) / num(b.gasLimit)) / 100, href: href(`/block/${num(b.number)}`) })),
      { unit: '%', max: 100 },
    )}
    <div class="grid">
      <section>
        <h2>Recent blocks</h2>
        <table>
          <thead><tr><th>Block</th><th>Time</th><th>Txs</th><th>Gas used</th></tr></thead>
          <tbody>
            ${recent.map((b) => html`<tr><td>${blockLink(b.number)}</td><td>${when(b.timestamp)}</td><td>${b.transactions.length}</td><td>${num(b.gasUsed).toLocaleString('en-US')}</td></tr>`)}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Recent transactions</h2>
        <table>
          <thead><tr><th>Hash</th><th>From</th><th>To</th><th>Value</th></tr></thead>
          <tbody>
            ${txs.length === 0 ? html`<tr><td colspan="4" class="muted">none in the last 10 blocks</td></tr>` : null}
            ${txs.map((t) => html`<tr><td>${txLink(t.hash)}</td><td>${addrLink(t.from)}</td><td>${addrLink(t.to)}</td><td>${eth(t.value)}</td></tr>`)}
          </tbody>
        </table>
      </section>
    </div>`;
}

function txTable(txs: RpcTx[], receipts: Map<string, RpcReceipt>) {
  return html`<table>
    <thead><tr><th>#</th><th>Hash</th><th>From</th><th>To</th><th>Value</th><th>Gas used</th><th>Status</th></tr></thead>
    <tbody>
      ${txs.map((t) => {
        const r = receipts.get(t.hash);
        return html`<tr>
          <td>${t.transactionIndex === null ? '' : num(t.transactionIndex).toString()}</td><td>${txLink(t.hash)}</td><td>${addrLink(t.from)}</td>
          <td>${t.to === null ? html`<span class="muted">create</span> ${addrLink(r?.contractAddress)}` : addrLink(t.to)}</td><td>${eth(t.value)}</td>
          <td>${r === undefined ? '' : num(r.gasUsed).toLocaleString('en-US')}</td><td>${r === undefined ? '' : status(r.status === '0x1')}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export async function blockPage(rpc: ExplorerRpc, id: string): Promise<string> {
  const ref = isHash(id) ? id : /^\d{1,15}$/.test(id) ? BigInt(id) : undefined;
  if (ref === undefined) throw new NotFound(`block ${id}`);
  const b = await rpc.block(ref, true);
  const receipts = (await rpc.call<RpcReceipt[] | null>('eth_getBlockReceipts', [b.hash])) ?? [];
  const n = num(b.number);
  const txs = b.transactions as RpcTx[];
  return page(
    `Block ${n}`,
    html`<h1>Block ${n.toString()}</h1>
      <p>${n > 0n ? html`<a href=${href(`/block/${n - 1n}`)}>← ${(n - 1n).toString()}</a>` : null} <a href=${href(`/block/${n + 1n}`)}>${(n + 1n).toString()} →</a></p>
      <dl>
        <dt>Hash</dt><dd class="mono">${b.hash}</dd>
        <dt>Parent</dt><dd class="mono">${n > 0n ? html`<a href=${href(`/block/${b.parentHash}`)}>${b.parentHash}</a>` : b.parentHash}</dd>
        <dt>Time</dt><dd>${when(b.timestamp)}</dd>
        <dt>Transactions</dt><dd>${txs.length}</dd>
        <dt>Gas used</dt><dd>${num(b.gasUsed).toLocaleString('en-US')} of ${num(b.gasLimit).toLocaleString('en-US')} (${(Number((num(b.gasUsed) * 10_000n) / num(b.gasLimit)) / 100).toFixed(2)}%)</dd>
        <dt>Base fee</dt><dd>${b.baseFeePerGas === undefined ? '—' : `${num(b.baseFeePerGas).toLocaleString('en-US')} wei`}</dd>
        <dt>Fee recipient</dt><dd>${addrLink(b.miner)}</dd>
        <dt>State root</dt><dd class="mono">${b.stateRoot}</dd>
        <dt>Size</dt><dd>${num(b.size).toLocaleString('en-US')} bytes</dd>
      </dl>
      <h2>Transactions</h2>
      ${txTable(txs, new Map(receipts.map((r) => [r.transactionHash, r])))}`,
  );
}

export async function txPage(rpc: ExplorerRpc, hash: string): Promise<string> {
  if (!isHash(hash)) throw new NotFound(`transaction ${hash}`);
  const [tx, receipt] = await Promise.all([rpc.call<RpcTx | null>('eth_getTransactionByHash', [hash]), rpc.call<RpcReceipt | null>('eth_getTransactionReceipt', [hash])]);
  if (tx === null) throw new NotFound(`transaction ${hash}`);
  const failed = receipt !== null && receipt.status !== '0x1';
  const revertData = failed ? await rpc.optional<Hex>('ots_getTransactionError', [hash]) : undefined;
  const reason = revertData === undefined ? undefined : decodeRevert(revertData);
  return page(
    `Transaction ${short(hash)}`,
    html`<h1>Transaction <span class="mono">${hash}</span></h1>
      <dl>
        <dt>Status</dt><dd>${receipt === null ? html`<span class="pill">pending</span>` : status(!failed)}</dd>
        ${failed ? html`<dt>Revert reason</dt><dd class="bad">${reason ?? (revertData === undefined || revertData === '0x' ? 'none given' : revertData)}</dd>` : null}
        <dt>Block</dt><dd>${tx.blockNumber === null ? '—' : blockLink(tx.blockNumber)}</dd>
        <dt>From</dt><dd>${addrLink(tx.from)}</dd>
        <dt>To</dt><dd>${tx.to === null ? html`contract creation ${addrLink(receipt?.contractAddress)}` : addrLink(tx.to)}</dd>
        <dt>Value</dt><dd>${eth(tx.value)}</dd>
        <dt>Nonce</dt><dd>${num(tx.nonce).toString()}</dd>
        <dt>Type</dt><dd>${num(tx.type).toString()}</dd>
        <dt>Gas used / limit</dt><dd>${receipt === null ? '—' : num(receipt.gasUsed).toLocaleString('en-US')} / ${num(tx.gas).toLocaleString('en-US')}</dd>
        <dt>Gas price paid</dt><dd>${receipt === null ? '—' : `${num(receipt.effectiveGasPrice).toLocaleString('en-US')} wei`}</dd>
        <dt>Input</dt><dd class="mono">${tx.input.length > 2 + 2 * 512 ? `${tx.input.slice(0, 2 + 2 * 512)}… (${(tx.input.length - 2) / 2} bytes)` : tx.input}</dd>
      </dl>
      <h2>Logs</h2>
      ${
        receipt === null || receipt.logs.length === 0
          ? html`<p class="muted">none</p>`
          : html`<table>
            <thead><tr><th>#</th><th>Contract</th><th>Event</th></tr></thead>
            <tbody>
              ${receipt.logs.map((l) => {
                const d = decodeLog(l);
                return html`<tr>
                  <td>${num(l.logIndex).toString()}</td><td>${addrLink(l.address)}</td>
                  <td>${d === undefined ? html`<span class="mono">${l.topics.join(' ')} ${l.data}</span>` : html`<b>${d.name}</b>(${d.args.map(([k, v], i) => html`${i > 0 ? ', ' : ''}${k}: <span class="mono">${v}</span>`)})`}</td>
                </tr>`;
              })}
            </tbody>
          </table>`
      }`,
  );
}

interface History {
  txs: RpcTx[];
  receipts: RpcReceipt[];
  firstPage: boolean;
  lastPage: boolean;
}

export async function addressPage(rpc: ExplorerRpc, address: string, before?: string): Promise<string> {
  if (!isAddress(address, { strict: false })) throw new NotFound(`address ${address}`);
  const at = before !== undefined && /^\d{1,15}$/.test(before) ? Number(before) : 0;
  const [balance, nonce, code, creator, history] = await Promise.all([
    rpc.call<Hex>('eth_getBalance', [address, 'latest']),
    rpc.call<Hex>('eth_getTransactionCount', [address, 'latest']),
    rpc.call<Hex>('eth_getCode', [address, 'latest']),
    rpc.optional<{ hash: Hex; creator: Hex } | null>('ots_getContractCreator', [address]),
    rpc.optional<History>('ots_searchTransactionsBefore', [address, at, 25]),
  ]);
  const receipts = new Map((history?.receipts ?? []).map((r) => [r.transactionHash, r]));
  const oldest = history?.txs.at(-1)?.blockNumber;
  return page(
    `Address ${short(address, 8)}`,
    html`<h1>Address <span class="mono">${address}</span></h1>
      <dl>
        <dt>Balance</dt><dd>${eth(balance)}</dd>
        <dt>Nonce</dt><dd>${num(nonce).toString()}</dd>
        <dt>Code</dt><dd>${code === '0x' ? 'none (an account)' : `${(code.length - 2) / 2} bytes (a contract)`}</dd>
        ${creator ? html`<dt>Created by</dt><dd>${addrLink(creator.creator)} in ${txLink(creator.hash)}</dd>` : null}
        <dt>As a prover</dt><dd><a href=${href(`/prover/${address}`)}>stake and record</a></dd>
      </dl>
      <h2>Transactions ${at === 0 ? '' : `before block ${at}`}</h2>
      ${history === undefined ? html`<p class="muted">this node keeps no address index</p>` : txTable(history.txs, receipts)}
      ${history !== undefined && !history.lastPage && oldest ? html`<p><a href=${href(`/address/${address}?before=${num(oldest)}`)}>Older →</a></p>` : null}`,
  );
}
