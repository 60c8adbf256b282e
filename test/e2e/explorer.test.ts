import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type Hex, createPublicClient, createWalletClient, decodeErrorResult, formatEther, http, parseEther } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainAt } from '../../contracts/abi/chain.ts';
import { INFERENCE_MARKET_ADDRESS } from '../../contracts/predeploys.ts';
import { type ProofFile, TINY_SPEC, cliOk, compileModelCached, readJson } from '../helpers/ai.ts';
import { DEV_KEYS, removeDir, rpc } from '../helpers/dev-node.ts';
import { type Devnet, startDevnet } from '../helpers/devnet.ts';
import { marketAbi } from '../helpers/market.ts';

/** Debian's chromium (`.ci/run` installs it); nothing is downloaded at run time. */
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of every page visited, for review. */
const SHOTS = resolve(import.meta.dirname, '../../test-output/explorer');
const FEE = parseEther('0.01');
const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

const call = async <T = any>(url: string, method: string, params: unknown[] = []): Promise<T> => {
  const r = await rpc(url, { jsonrpc: '2.0', id: 1, method, params });
  if (r.json.error) throw new Error(`${method}: ${r.json.error.message}`);
  return r.json.result as T;
};

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 250))) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** The <dd> after the <dt> named `name` on a page (the explorer's detail lists). */
const field = (page: Page, name: string) => page.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd[1]');

describe('block explorer: a devnet read in headless Chromium, checked against JSON-RPC', () => {
  let work: string;
  let devnet: Devnet;
  let base: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let modelId: Hex;
  let fulfilledId: bigint;
  let openId: bigint;
  let fulfilTx: Hex;
  let failedTx: Hex;
  const prover = privateKeyToAccount(DEV_KEYS[1] as Hex);
  const dapp = privateKeyToAccount(DEV_KEYS[0] as Hex);

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const visit = async (path: string, status = 200) => {
    const res = await page.goto(`${base}${path}`);
    expect(res?.status(), path).toBe(status);
    return res;
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
    work = await mkdtemp(join(tmpdir(), 'explorer-'));
    await mkdir(SHOTS, { recursive: true });
    devnet = await startDevnet(['--datadir', join(work, 'devnet'), '--no-example-models', '--no-p2p', '--log-level', 'warn', '--challenge-window', '2']);
    base = `${devnet.l2}/explorer`;
    const model = join(work, 'devnet', 'models', 'tiny'); // where the devnet's node serves artifacts from
    await compileModelCached(TINY_SPEC, model);
    modelId = JSON.parse(await cliOk(['model', 'register', '--model', model, '--rpc', devnet.l2, '--dev', '--weights', '--metadata-uri', 'ipfs://tiny'])).modelId;
    await writeFile(join(work, 'input.json'), JSON.stringify(Array.from({ length: 16 }, (_, i) => (i * 29 + 3) % 256)));
    await cliOk(['model', 'prove', '--model', model, '--input', join(work, 'input.json'), '--out', join(work, 'proof.json')]);
    const p = readJson<ProofFile>(join(work, 'proof.json'));
    const signals = p.publicSignals.map(BigInt);
    const outputs = signals.slice(0, p.output.length);
    const inputSignals = signals.slice(p.output.length);

    // the market, as a dApp and a prover use it: a request fulfilled with a real proof, one left open
    const chain = chainAt(901, devnet.l2);
    const pub = createPublicClient({ chain, transport: http(devnet.l2), pollingInterval: 100 });
    const wallet = (account: typeof dapp) => createWalletClient({ chain, account, transport: http(devnet.l2), pollingInterval: 100 });
    const write = async (account: typeof dapp, functionName: string, args: unknown[], value?: bigint, gas?: bigint) => {
      const hash = await wallet(account).writeContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName, args, value, gas } as never);
      return { hash, receipt: await pub.waitForTransactionReceipt({ hash }) };
    };
    expect((await write(prover, 'registerProver', [], parseEther('2'))).receipt.status).toBe('success');
    await write(dapp, 'requestInference', [modelId, inputSignals, 3600n, '0x0000000000000000000000000000000000000000', 0], FEE);
    fulfilledId = await pub.readContract({ address: INFERENCE_MARKET_ADDRESS, abi: marketAbi, functionName: 'requestCount' });
    expect((await write(prover, 'claim', [fulfilledId])).receipt.status).toBe('success');
    const fulfilled = await write(prover, 'fulfill', [fulfilledId, outputs, p.proofWords.map(BigInt)]);
    expect(fulfilled.receipt.status).toBe('success');
    fulfilTx = fulfilled.hash;
    await write(dapp, 'requestInference', [modelId, inputSignals, 3600n, '0x0000000000000000000000000000000000000000', 0], FEE);
    openId = fulfilledId + 1n;
    // a transaction that reverts on chain (gas given, so it is not refused at estimation)
    const failed = await write(dapp, 'claim', [openId], undefined, 300_000n);
    expect(failed.receipt.status).toBe('reverted');
    failedTx = failed.hash;
    // the fulfilment in a batch on L1, so the request page has an L1 status to show
    await until(
      'the fulfilment in a batch',
      async () => {
        const s = await call(devnet.l2, 'rollup_syncStatus');
        return BigInt(s.safe.number) >= fulfilled.receipt.blockNumber ? s : undefined;
      },
      90_000,
    );

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // a script error or a CSP refusal (an inline style or script) would show here
    // (a not-found page's own 404 is expected: its sub-resources must still load)
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
    });
    page.on('response', (r) => {
      if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    if (devnet !== undefined) expect(await devnet.stop('SIGTERM')).toBe(0);
    await removeDir(work);
  });

  it('home: the heads, L1 status and recent blocks, and new blocks appear without a reload', async () => {
    await visit('/');
    await shot('home');
    const latest = page.locator('.card', { hasText: 'Latest block' }).locator('.big a');
    const first = BigInt(await latest.innerText());
    expect(first).toBeLessThanOrEqual(BigInt(await call(devnet.l2, 'eth_blockNumber')));
    const sync = await call(devnet.l2, 'rollup_syncStatus');
    const batches = page.locator('.card', { hasText: /^L1/ }).locator('.big');
    expect(Number.parseInt(await batches.innerText(), 10)).toBeLessThanOrEqual(Number(BigInt(sync.batchCount)));
    expect(Number.parseInt(await batches.innerText(), 10)).toBeGreaterThan(0);
    await expect(page.locator('figure svg rect').count()).resolves.toBeGreaterThan(1);
    // live: the latest block moves on while the page stays (devnet blocks come every second)
    const url = page.url();
    await page.waitForFunction((n) => BigInt(document.querySelector('.card .big a')?.textContent ?? '0') > BigInt(n), first.toString(), { timeout: 15_000 });
    expect(page.url()).toBe(url);
  });

  it('clicks through home → block → transaction → model → request → prover, each page matching JSON-RPC', async () => {
    const receipt = await call(devnet.l2, 'eth_getTransactionReceipt', [fulfilTx]);
    const blockNumber = BigInt(receipt.blockNumber);
    await visit(`/block/${blockNumber}`); // the home page shows the last 10 blocks: the fulfilment is older
    await shot('block');
    const block = await call(devnet.l2, 'eth_getBlockByNumber', [receipt.blockNumber, false]);
    expect(await field(page, 'Hash').innerText()).toBe(block.hash);
    expect(Number(await field(page, 'Transactions').innerText())).toBe(block.transactions.length);
    // and the home page links to blocks that open
    await visit('/');
    await page.locator('section', { hasText: 'Recent blocks' }).locator('tbody a').first().click();
    await expect(page.locator('h1').innerText()).resolves.toMatch(/^Block \d+$/);

    await visit(`/block/${blockNumber}`);
    await page.locator(`a[href$="/tx/${fulfilTx}"]`).click();
    await page.waitForURL(`**/tx/${fulfilTx}`);
    await shot('transaction');
    const tx = await call(devnet.l2, 'eth_getTransactionByHash', [fulfilTx]);
    expect(await field(page, 'Status').innerText()).toBe('success');
    expect((await field(page, 'From').locator('a').getAttribute('href'))?.toLowerCase()).toBe(`/explorer/address/${tx.from}`.toLowerCase());
    await expect(page.locator('td b', { hasText: 'InferenceFulfilled' }).count()).resolves.toBe(1);

    await visit(`/request/${fulfilledId}`);
    await page.locator(`dd a[href$="/model/${modelId}"]`).click();
    await page.waitForURL(`**/model/${modelId}`);
    await shot('model');
    const m = await call(devnet.l2, 'ai_getModel', [modelId]);
    expect(await field(page, 'Verifying key hash').innerText()).toBe(m.verifyingKeyHash);
    expect((await field(page, 'Owner').locator('a').getAttribute('href'))?.toLowerCase()).toBe(`/explorer/address/${m.owner}`.toLowerCase());
    expect(await field(page, 'Weights').innerText()).toBe('published on chain');
    expect(await field(page, 'Metadata').innerText()).toBe('ipfs://tiny');
    expect(await field(page, 'Requests').innerText()).toMatch(/^2 in blocks 0–\d+$/);
    expect(await field(page, 'Input mode').innerText()).toBe((await call(devnet.l2, 'ai_modelArtifacts', [modelId])).inputMode);
    await expect(page.locator('figure', { hasText: 'Lineage' }).locator('rect').count()).resolves.toBe(1);

    await page.locator(`a[href$="/request/${fulfilledId}"]`).first().click();
    await page.waitForURL(`**/request/${fulfilledId}`);
    await shot('request');
    const r = await call(devnet.l2, 'ai_getInferenceRequest', [`0x${fulfilledId.toString(16)}`]);
    expect(await field(page, 'Status').innerText()).toBe('fulfilled');
    expect(await field(page, 'Outputs').innerText()).toBe(`[${r.outputs.map((o: Hex) => BigInt(o).toString()).join(', ')}]`);
    expect(await field(page, 'Fee').innerText()).toBe('0.01 ETH');
    const l1 = await call(devnet.l2, 'ai_getInferenceProof', [`0x${fulfilledId.toString(16)}`]);
    expect(l1.batch).not.toBeNull();
    expect(await field(page, 'Result on L1').innerText()).toContain(`in batch ${BigInt(l1.batch.index)}`);
    await expect(page.locator('td b', { hasText: 'Claimed' }).count()).resolves.toBe(1);

    await field(page, 'Prover').locator('a').click();
    await page.waitForURL(`**/prover/**`);
    await shot('prover');
    expect(await field(page, 'Fulfilled').innerText()).toBe('1');
    expect(await field(page, 'Earnings').innerText()).toMatch(/^0\.01 ETH from 1 fulfilment/);
    const record = await until('the prover in ai_listProvers', async () =>
      (await call(devnet.l2, 'ai_listProvers')).provers.find((x: { address: string }) => x.address.toLowerCase() === prover.address.toLowerCase()),
    );
    expect(await field(page, 'Stake').innerText()).toBe(`${formatEther(BigInt(record.stake))} ETH`);

    await visit('/provers');
    await shot('provers');
    const rows = page.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    expect((await rows.first().locator('td').nth(1).innerText()).toLowerCase()).toBe(`${prover.address.slice(0, 10)}…${prover.address.slice(-6)}`.toLowerCase());
    expect(await rows.first().locator('td').nth(2).innerText()).toBe('1');

    await visit('/requests');
    await shot('requests');
    await expect(page.locator('tbody tr').count()).resolves.toBe(2);
    await expect(page.locator(`tbody a[href$="/request/${openId}"]`).count()).resolves.toBe(1);
    await visit('/models');
    await shot('models');
    await expect(page.locator(`tbody a[href$="/model/${modelId}"]`).count()).resolves.toBe(1);
  });

  it('a reverted transaction shows its decoded revert reason; the address page lists it', async () => {
    await visit(`/tx/${failedTx}`);
    await shot('transaction-reverted');
    expect(await field(page, 'Status').innerText()).toBe('failed');
    const data = await call<Hex>(devnet.l2, 'ots_getTransactionError', [failedTx]);
    const reason = decodeErrorResult({ abi: marketAbi, data });
    expect(reason.errorName).toBe('NotRegistered');
    expect(await field(page, 'Revert reason').innerText()).toBe(`NotRegistered(${reason.args.map(String).join(', ')})`);
    await visit(`/address/${dapp.address}`);
    await shot('address');
    expect(await field(page, 'Balance').innerText()).toBe(`${formatEther(BigInt(await call(devnet.l2, 'eth_getBalance', [dapp.address, 'latest'])))} ETH`);
    await expect(page.locator(`tbody a[href$="/tx/${failedTx}"]`).count()).resolves.toBe(1);
  });

  it('batches and outputs: what L1 holds, as rollup_getBatch and rollup_getOutput say', async () => {
    await visit('/batches');
    await shot('batches');
    const b0 = await call(devnet.l2, 'rollup_getBatch', ['0x0']);
    await visit('/batch/0');
    await shot('batch');
    expect(await field(page, 'L1 transaction').innerText()).toBe(b0.l1TransactionHash);
    expect(await field(page, 'Calldata').innerText()).toBe(`${Number(BigInt(b0.l1CalldataBytes)).toLocaleString('en-US')} bytes`);
    expect(await field(page, 'L1 gas used').innerText()).toBe(Number(BigInt(b0.l1GasUsed)).toLocaleString('en-US'));
  });

  it('the search box finds a block, a transaction, an address, a model and a request', async () => {
    const search = async (q: string) => {
      await visit('/');
      await page.fill('#search', q);
      await Promise.all([page.waitForURL((u) => !u.pathname.endsWith('/explorer/') && !u.pathname.endsWith('/explorer')), page.press('#search', 'Enter')]);
      return new URL(page.url()).pathname;
    };
    expect(await search('1')).toBe('/explorer/block/1');
    expect(await search(`  ${fulfilTx}  `)).toBe(`/explorer/tx/${fulfilTx}`);
    expect(await search(dapp.address)).toBe(`/explorer/address/${dapp.address}`);
    expect(await search(modelId)).toBe(`/explorer/model/${modelId}`);
    expect(await search(`#${fulfilledId}`)).toBe(`/explorer/request/${fulfilledId}`);
    const blockHash = (await call(devnet.l2, 'eth_getBlockByNumber', ['0x1', false])).hash;
    expect(await search(blockHash)).toBe(`/explorer/block/${blockHash}`);
    expect(await search('no such thing')).toBe('/explorer/search');
    expect(await page.locator('h1').innerText()).toBe('Not found');
    await shot('search-not-found');
  });

  it('a flood of page loads gets pages or 503 "busy", while the node keeps sealing blocks and answering other clients', async () => {
    const before = BigInt(await call(devnet.l2, 'eth_blockNumber'));
    const paths = ['/provers', '/requests', `/model/${modelId}`, '/', `/request/${fulfilledId}`, '/search?q=1'];
    const flood = Promise.all(
      Array.from({ length: 240 }, async (_, i) => {
        const res = await fetch(`${base}${paths[i % paths.length]}`, { redirect: 'manual' });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    // meanwhile another client is served
    expect(BigInt((await call(devnet.l2, 'eth_getBalance', [dapp.address, 'latest'])) ?? 0)).toBeGreaterThan(0n);
    const statuses = await flood;
    const counts = statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
    expect(
      Object.keys(counts).every((s) => ['200', '303', '503'].includes(s)),
      JSON.stringify(counts),
    ).toBe(true);
    expect(counts[503] ?? 0, JSON.stringify(counts)).toBeGreaterThan(0); // the queue is bounded
    expect(counts[200] ?? 0, JSON.stringify(counts)).toBeGreaterThan(0);
    await until('a new block', async () => (BigInt(await call(devnet.l2, 'eth_blockNumber')) > before ? true : undefined), 15_000);
    await visit('/provers'); // and the explorer serves again once the flood is over
  });

  it('`ai-rollup explorer --rpc` serves the same pages from a port of its own, reading the node over JSON-RPC only', async () => {
    const proc = spawn(process.execPath, [BIN, 'explorer', '--rpc', devnet.l2, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error('explorer did not start')), 30_000);
        createInterface({ input: proc.stdout! }).on('line', (l) => {
          const m = /^Explorer: (\S+)/.exec(l);
          if (m) {
            clearTimeout(timer);
            res(m[1]!);
          }
        });
        proc.once('exit', (c) => rej(new Error(`explorer exited with ${c}`)));
      });
      const res = await fetch(`${url}model/${modelId}`);
      expect(res.status).toBe(200);
      const body = await res.text();
      expect(body).toContain(modelId);
      // its artifact links go to the node, not to the explorer's own port
      expect(body).toContain(`href="${devnet.l2}/artifacts/`);
      expect((await fetch(`${url}request/999999`)).status).toBe(404);
    } finally {
      proc.kill('SIGTERM');
    }
    const bad = spawn(process.execPath, [BIN, 'explorer', '--rpc', 'not a url', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr!.on('data', (d) => (err += String(d)));
    expect(await new Promise((res) => bad.once('exit', res))).not.toBe(0);
    expect(err).toContain('--rpc must be an http(s) URL');
  });

  it('bad input gets a not-found page (404), never a blank page or a crash, and the node goes on', async () => {
    const bad = [
      `/tx/0x${'ab'.repeat(32)}`,
      '/tx/0x12',
      '/block/99999999',
      `/block/0x${'00'.repeat(32)}`,
      '/block/-1',
      '/address/0x1234',
      `/model/0x${'11'.repeat(32)}`,
      '/model/abc',
      '/request/0',
      '/request/999999',
      `/request/${'9'.repeat(80)}`,
      '/prover/0x0000000000000000000000000000000000000001',
      '/batch/999999',
      '/batch/x',
      '/no/such/page',
      '/block/%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    ];
    for (const path of bad) {
      await visit(path, 404);
      expect(await page.locator('h1').innerText(), path).toBe('Not found');
      expect(await page.locator('script:not([src])').count(), path).toBe(0); // what was asked is shown escaped
    }
    await shot('not-found');
    // a query string of the wrong shape is ignored, not an error
    await visit('/models?offset=-5&offset=x');
    await visit('/requests?before[]=1');
    await visit(`/address/${dapp.address}?before=abc`);
    expect(BigInt(await call(devnet.l2, 'eth_blockNumber'))).toBeGreaterThan(0n);
    expect(problems).toEqual([]);
  });
});
