import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * @ethereumjs/evm keeps its Interpreter out of the package's exports; its module is loaded by file
 * from beside the entry point, which is the same module instance the EVM imports, so a method
 * replaced on this prototype is the one every EVM runs.
 */
export async function interpreterPrototype(): Promise<Record<PropertyKey, unknown>> {
  const mod = (await import(interpreterUrl())) as { Interpreter?: { prototype: Record<PropertyKey, unknown> } };
  const proto = mod.Interpreter?.prototype;
  if (proto === undefined) throw new Error('@ethereumjs/evm: Interpreter not found beside the package entry');
  return proto;
}

/**
 * dist/esm/interpreter.js of @ethereumjs/evm. import.meta.resolve gives the ESM entry; where it is
 * missing (vitest's module runner) the CommonJS entry is found and its sibling ESM file taken.
 */
function interpreterUrl(): string {
  if (typeof import.meta.resolve === 'function') return new URL('./interpreter.js', import.meta.resolve('@ethereumjs/evm')).href;
  const cjs = createRequire(import.meta.url).resolve('@ethereumjs/evm');
  return pathToFileURL(join(dirname(cjs), '..', 'esm', 'interpreter.js')).href;
}
