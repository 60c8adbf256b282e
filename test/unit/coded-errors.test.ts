/**
 * Every error class the project defines shares the typed base (precompiles/errors.ts): a stable
 * code and a message. A class that extends Error directly would slip past callers that branch on
 * `code`; this keeps new ones from doing so.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../precompiles/errors.ts';
import { TxPoolError, TxPoolErrorCode } from '../../node/txpool/errors.ts';
import { RpcError } from '../../node/rpc/errors.ts';

const ROOT = join(import.meta.dirname, '../..');
const SOURCES = ['node', 'sequencer', 'prover', 'precompiles', 'contracts', 'devnet'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

describe('typed errors', () => {
  it('no error class extends Error directly but the base', () => {
    const offenders = SOURCES.flatMap((d) => tsFiles(join(ROOT, d)))
      .filter((f) => relative(ROOT, f) !== 'precompiles/errors.ts')
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g)].map((m) => `${relative(ROOT, f)}: ${m[1]}`));
    expect(offenders).toEqual([]);
  });

  it('a coded error carries its code, message and class name', () => {
    const e = new TxPoolError(TxPoolErrorCode.NonceTooLow, 'nonce too low: next nonce 3, tx nonce 1');
    expect(e).toBeInstanceOf(CodedError);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.message, e.name]).toEqual(['NONCE_TOO_LOW', 'nonce too low: next nonce 3, tx nonce 1', 'TxPoolError']);
    const r = new RpcError(-32602, 'invalid argument 0');
    expect([r.code, r.name]).toEqual([-32602, 'RpcError']);
  });
});
