/** `ai-rollup devnet` as a user starts it: a child process, its URLs read from the banner it prints. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

export interface Devnet {
  l1: string;
  l2: string;
  lines: string[];
  stop(signal: NodeJS.Signals): Promise<number | null>;
  pid: number;
}

export function startDevnet(args: string[]): Promise<Devnet> {
  const proc = spawn(process.execPath, [BIN, 'devnet', '--l1-port', '0', '--rpc.port', '0', '--l1-block-time', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('exit', (c) => res(c)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`devnet did not start:\n${lines.join('\n')}`)), 90_000);
    let l1: string | undefined;
    const onLine = (line: string) => {
      lines.push(line);
      l1 ??= /^L1 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      const l2 = /^L2 JSON-RPC:\s+(\S+)/.exec(line)?.[1];
      if (l2 !== undefined && l1 !== undefined) {
        clearTimeout(timer);
        res({ l1, l2, lines, pid: proc.pid!, stop: (s) => (proc.kill(s), exited) });
      }
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(l));
    void exited.then((c) => rej(new Error(`devnet exited with ${c}:\n${lines.join('\n')}`)));
  });
}
