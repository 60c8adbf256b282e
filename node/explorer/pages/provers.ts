/**
 * Provers: the leaderboard (every prover that ever staked, from ai_listProvers, ranked by
 * fulfilments) and one prover (its market record now, its earnings and work over a bounded window
 * of recent blocks from the market's logs).
 */
import { type Hex, isAddress } from 'viem';
import { type MarketProver, marketAbi } from '../../../contracts/abi/market.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../../contracts/predeploys.ts';
import { blockLink, eth, href, html, num, page, proverLink, requestLink, short, txLink } from '../html.ts';
import { type ExplorerRpc, NotFound } from '../rpc.ts';
import { USAGE_MAX, USAGE_WINDOW, topic } from './models.ts';
import { fulfilmentFee } from './requests.ts';

/** Pages of ai_listProvers a leaderboard reads (100 each): past this it says it is partial. */
const MAX_PAGES = 10;

interface ProverRow {
  address: Hex;
  stake: Hex;
  locked: Hex;
  fulfilled: number;
  missed: number;
  rejected: number;
  lastStakedAt: Hex;
}

export async function proversPage(rpc: ExplorerRpc): Promise<string> {
  const rows: ProverRow[] = [];
  let after: Hex | null = null;
  let pages = 0;
  do {
    const got: { provers: ProverRow[]; next: Hex | null } = await rpc.call('ai_listProvers', after === null ? [] : [after]);
    rows.push(...got.provers);
    after = got.next;
  } while (after !== null && ++pages < MAX_PAGES);
  rows.sort((a, b) => b.fulfilled - a.fulfilled || (num(b.stake) > num(a.stake) ? 1 : num(b.stake) < num(a.stake) ? -1 : 0));
  return page(
    'Provers',
    html`<h1>Provers <span class="muted">(${rows.length}${after === null ? '' : '+'} that ever staked)</span></h1>
      ${after === null ? null : html`<p class="muted">ranked among the first ${rows.length} by address</p>`}
      <table>
        <thead><tr><th>Rank</th><th>Prover</th><th>Fulfilled</th><th>Missed</th><th>Rejected</th><th>Stake</th><th>Locked</th><th>Last staked</th></tr></thead>
        <tbody>
          ${rows.length === 0 ? html`<tr><td colspan="8" class="muted">none</td></tr>` : null}
          ${rows.map(
            (p, i) => html`<tr>
              <td>${i + 1}</td><td>${proverLink(p.address)}</td><td>${p.fulfilled}</td><td>${p.missed}</td><td>${p.rejected}</td>
              <td>${eth(p.stake)}</td><td>${eth(p.locked)}</td><td>${blockLink(p.lastStakedAt)}</td>
            </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

export async function proverPage(rpc: ExplorerRpc, address: string): Promise<string> {
  if (!isAddress(address, { strict: false })) throw new NotFound(`prover ${address}`);
  const head = await rpc.head();
  const who = `0x${address.slice(2).toLowerCase().padStart(64, '0')}` as Hex;
  // a rejection and a missed claim name the prover as topic 2, a fulfilment as topic 3
  const bounds = { window: USAGE_WINDOW, max: USAGE_MAX };
  const [p, done, failed] = await Promise.all([
    rpc.read<MarketProver>(INFERENCE_MARKET_ADDRESS, marketAbi, 'getProver', [address]),
    rpc.recentLogs({ address: INFERENCE_MARKET_ADDRESS, topics: [topic('InferenceFulfilled'), null, null, who] }, head, bounds),
    rpc.recentLogs({ address: INFERENCE_MARKET_ADDRESS, topics: [[topic('ProofRejected'), topic('ClaimMissed')], null, who] }, head, bounds),
  ]);
  const fulfilled = done.logs;
  const from = done.from;
  const rejected = failed.logs.filter((l) => l.topics[0] === topic('ProofRejected'));
  const missed = failed.logs.filter((l) => l.topics[0] === topic('ClaimMissed'));
  if (p.stake === 0n && p.fulfilled === 0 && p.missed === 0 && p.rejected === 0 && fulfilled.length === 0) throw new NotFound(`prover ${address}`);
  const earned = fulfilled.reduce((sum, l) => sum + fulfilmentFee(l.data, l.topics), 0n);
  const work = [...fulfilled.map((l) => ({ l, what: 'fulfilled' })), ...rejected.map((l) => ({ l, what: 'proof rejected' })), ...missed.map((l) => ({ l, what: 'claim missed' }))]
    .sort((a, b) => Number(num(b.l.blockNumber ?? '0x0') - num(a.l.blockNumber ?? '0x0')))
    .slice(0, 25);
  return page(
    `Prover ${short(address, 8)}`,
    html`<h1>Prover <span class="mono">${address}</span></h1>
      <dl>
        <dt>Stake</dt><dd>${eth(p.stake)}</dd>
        <dt>Locked by claims</dt><dd>${eth(p.locked)}</dd>
        <dt>Fulfilled</dt><dd>${p.fulfilled}</dd>
        <dt>Missed claims</dt><dd>${p.missed}</dd>
        <dt>Rejected proofs</dt><dd>${p.rejected}</dd>
        <dt>Earnings</dt><dd>${eth(earned)}${done.capped ? '+' : ''} from ${fulfilled.length}${done.capped ? '+' : ''} fulfilment${fulfilled.length === 1 ? '' : 's'} in blocks ${from.toString()}–${head.toString()}</dd>
        <dt>Account</dt><dd><a href=${href(`/address/${address}`)}>balance and transactions</a></dd>
      </dl>
      <h2>Recent work</h2>
      <table>
        <thead><tr><th>Request</th><th>What</th><th>Block</th><th>Transaction</th></tr></thead>
        <tbody>
          ${work.length === 0 ? html`<tr><td colspan="4" class="muted">none in the window</td></tr>` : null}
          ${work.map(
            ({ l, what }) => html`<tr><td>${requestLink(l.topics[1]!)}</td><td>${what}</td><td>${l.blockNumber === undefined ? '' : blockLink(l.blockNumber)}</td>
              <td>${l.transactionHash === undefined ? '' : txLink(l.transactionHash)}</td></tr>`,
          )}
        </tbody>
      </table>`,
  );
}
