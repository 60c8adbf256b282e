/** Starts `ai-rollup prover` as an operator does, and waits for its `prover started` log line. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { processControls } from './wait.ts';

const BIN = resolve(import.meta.dirname, '../../bin/ai-rollup.js');

export interface ProverProc {
  proc: ChildProcess;
  address: `0x${string}`;
  p2p: string[];
  /** Every output line so far (JSON logs). */
  logs: string[];
  /** Parsed JSON log records whose `msg` is `msg`. */
  records(msg: string): Record<string, unknown>[];
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

export async function startProver(args: string[], timeoutMs = 60_000): Promise<ProverProc> {
  const proc = spawn(process.execPath, [BIN, 'prover', '--log-level', 'info', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const records = (msg: string) =>
    logs.flatMap((l) => {
      if (!l.startsWith('{')) return [];
      try {
        const r = JSON.parse(l) as Record<string, unknown>;
        return r.msg === msg ? [r] : [];
      } catch {
        return [];
      }
    });
  const started = await new Promise<Record<string, unknown>>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`prover did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    const onLine = (line: string) => {
      logs.push(line);
      const r = line.includes('"prover started"') ? records('prover started')[0] : undefined;
      if (r !== undefined) {
        clearTimeout(timer);
        res(r);
      }
    };
    createInterface({ input: proc.stdout! }).on('line', onLine);
    createInterface({ input: proc.stderr! }).on('line', (l) => logs.push(l));
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`prover exited with ${code} before starting:\n${logs.join('\n')}`));
    });
  });
  return {
    proc,
    address: started.prover as `0x${string}`,
    p2p: started.p2p as string[],
    logs,
    records,
    ...processControls(proc, exited),
  };
}

export { waitFor } from './wait.ts';
