/**
 * A Foundry project, written here, against a dev node as a developer would use it: `forge script
 * --broadcast` deploys a contract (signed by the node's dev account through --unlocked, and with a
 * private key), and `forge test --fork-url` runs a test that reads the deployed contract's state
 * from the node. Forge compiles with the npm solc behind the project's wrapper (no download).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContractAddress } from 'viem';
import type { Address } from 'viem';
import { devAccounts } from '../../node/chain/genesis.ts';
import { removeDir, rpc, startDevNode } from '../helpers/dev-node.ts';
import type { DevNode } from '../helpers/dev-node.ts';

const FORGE = resolve(import.meta.dirname, '../../node_modules/.bin/forge');
const SOLC = resolve(import.meta.dirname, '../../contracts/tools/solc-wrapper.mjs');
const run = promisify(execFile);

const COUNTER = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Counter {
    uint256 public number;
    function set(uint256 n) external { number = n; }
    function increment() external { number++; }
}
`;

const SCRIPT = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {Counter} from "../src/Counter.sol";
interface Vm { function startBroadcast() external; function stopBroadcast() external; }
contract Deploy {
    Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    function run() external returns (Counter c) {
        vm.startBroadcast();
        c = new Counter();
        c.set(41);
        c.increment();
        vm.stopBroadcast();
    }
}
`;

const testSource = (counter: string) => `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {Counter} from "../src/Counter.sol";
contract CounterForkTest {
    function test_readsTheNode() external {
        Counter c = Counter(${counter});
        require(c.number() == 42, "state from the node");
        c.increment();
        require(c.number() == 43, "local change on the fork");
    }
}
`;

describe('Foundry forge against the node', () => {
  let node: DevNode;
  let dir: string;

  beforeAll(async () => {
    node = await startDevNode();
    dir = await mkdtemp(join(tmpdir(), 'forge-project-'));
    for (const d of ['src', 'script', 'test']) await mkdir(join(dir, d));
    await writeFile(join(dir, 'src/Counter.sol'), COUNTER);
    await writeFile(join(dir, 'script/Deploy.s.sol'), SCRIPT);
    await writeFile(
      join(dir, 'foundry.toml'),
      `[profile.default]\nsrc = "src"\ntest = "test"\nscript = "script"\nlibs = []\nsolc = "${SOLC}"\noffline = true\nauto_detect_solc = false\nevm_version = "cancun"\n`,
    );
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await removeDir(node?.datadir ?? '');
    if (dir !== undefined) await removeDir(dir);
  });

  it('forge script --broadcast deploys through the node (unlocked dev account, then a private key); forge test --fork-url reads it', async () => {
    const sender = devAccounts(2)[1]!;
    const unlocked = await run(FORGE, ['script', 'script/Deploy.s.sol', '--rpc-url', node.url, '--broadcast', '--unlocked', '--sender', sender.address, '--slow'], {
      cwd: dir,
      timeout: 180_000,
    });
    expect(unlocked.stdout).toMatch(/ONCHAIN EXECUTION COMPLETE & SUCCESSFUL/);
    const keyed = await run(FORGE, ['script', 'script/Deploy.s.sol', '--rpc-url', node.url, '--broadcast', '--private-key', devAccounts(3)[2]!.privateKey, '--slow'], {
      cwd: dir,
      timeout: 180_000,
    });
    expect(keyed.stdout).toMatch(/ONCHAIN EXECUTION COMPLETE & SUCCESSFUL/);
    // the unlocked sender sent three transactions: the deployment (its first contract) and two calls
    const counter = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_getTransactionCount', params: [sender.address, 'latest'] })).json.result;
    expect(Number(counter)).toBe(3);
    const created = getContractAddress({ from: sender.address as Address, nonce: 0n });
    const number = (await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: created, data: '0x8381f58a' }, 'latest'] })).json.result;
    expect(BigInt(number)).toBe(42n);
    await writeFile(join(dir, 'test/Counter.t.sol'), testSource(created));
    const tested = await run(FORGE, ['test', '--fork-url', node.url, '-vv'], { cwd: dir, timeout: 180_000 });
    expect(tested.stdout).toMatch(/\[PASS\] test_readsTheNode/);
  }, 400_000);
});
