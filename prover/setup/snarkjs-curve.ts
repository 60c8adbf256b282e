/**
 * snarkjs builds a multi-threaded BN254 curve (ffjavascript) and caches it in a global; its
 * worker threads keep a process alive. Every use goes through here so the curve is released
 * when the last user is done.
 */
import * as snarkjs from 'snarkjs';
import { releaseSnarkjsCurve } from '../circuit/compile.ts';

export const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

let users = 0;

export async function withCurve<T>(fn: (s: typeof snarkjs, curve: unknown) => Promise<T>): Promise<T> {
  users++;
  try {
    const curve = await (snarkjs as unknown as { curves: { getCurveFromName(n: string): Promise<unknown> } }).curves.getCurveFromName('bn128');
    return await fn(snarkjs, curve);
  } finally {
    if (--users === 0) await releaseSnarkjsCurve();
  }
}

/**
 * For a proving worker thread: snarkjs asks ffjavascript for the global multi-threaded curve,
 * which would start a thread per core in every worker of a pool. A single-threaded curve put in
 * that global is used instead, and stays pinned (never released by withCurve) until the worker
 * exits, so a pool of N workers uses N threads and builds each curve once.
 */
export async function pinSingleThreadCurve(): Promise<void> {
  const g = globalThis as { curve_bn128?: unknown };
  g.curve_bn128 = await (snarkjs as unknown as { curves: { getCurveFromName(n: string, o: { singleThread: boolean }): Promise<unknown> } }).curves.getCurveFromName('bn128', {
    singleThread: true,
  });
  users++;
}
