/**
 * libp2p v3 and its muxers call `Promise.withResolvers` (Node 22+) at run time; this repo runs on
 * Node 20. The shim is the spec'd behaviour and only installs itself where the method is missing.
 * Every p2p module imports it first, so it is in place before libp2p runs anything.
 */
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>() {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
export {};
