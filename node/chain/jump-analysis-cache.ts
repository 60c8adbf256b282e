import { interpreterPrototype } from './evm-interpreter.ts';

/**
 * ethereumjs analyses a contract's code (valid JUMPDESTs, PUSH values, opcode table) on every
 * call frame that jumps: for a ~5 KB token contract that was ~70 us of each ERC-20 transfer, a
 * tenth of its execution. The analysis depends only on the code bytes and the EVM's opcode table,
 * and the interpreter only reads what it returns, so one result per (opcode table, code) serves
 * every frame. Keyed by the code array itself: the state manager's code cache hands the same
 * array to every call of a contract, nothing writes into code arrays, and weak keys let an
 * evicted contract's analysis go with its code.
 */

interface Analysis {
  jumps: Uint8Array;
  pushes: Record<number, bigint>;
  opcodesCached: unknown[];
}

interface InterpreterLike {
  _evm: { _opcodeMap: object };
}

type Analyse = (this: InterpreterLike, code: Uint8Array) => Analysis;

const MARK = Symbol.for('ai-rollup.jump-analysis-cache');
const byTable = new WeakMap<object, WeakMap<Uint8Array, Analysis>>();

async function install(): Promise<void> {
  const proto = await interpreterPrototype();
  if (proto[MARK] === true) return;
  const original = proto._getValidJumpDestinations as Analyse | undefined;
  // an ethereumjs without the method: nothing to cache, and nothing breaks
  if (typeof original !== 'function') return;
  proto._getValidJumpDestinations = function (this: InterpreterLike, code: Uint8Array): Analysis {
    const table = this._evm._opcodeMap;
    let cache = byTable.get(table);
    if (cache === undefined) byTable.set(table, (cache = new WeakMap()));
    let hit = cache.get(code);
    if (hit === undefined) {
      hit = original.call(this, code);
      cache.set(code, hit);
    }
    return hit;
  } satisfies Analyse;
  proto[MARK] = true;
}

await install();
