/** Polling and process helpers shared by the e2e tests (waits have generous timeouts; nothing here times anything). */
import type { ChildProcess } from 'node:child_process';

/**
 * Polls `check` until it returns a value other than false/undefined, failing after `timeoutMs`
 * with `what`. A check that throws counts as "not yet" (a node restarting refuses connections).
 */
export async function waitFor<T>(what: string, check: () => T | false | undefined | Promise<T | false | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(check)
      .catch(() => undefined);
    if (v !== false && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** stop(): SIGTERM and wait for the exit code; kill9(): a crash at an arbitrary instant. */
export function processControls(proc: ChildProcess, exited: Promise<number | null>) {
  return {
    async stop(): Promise<number | null> {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return exited;
    },
    async kill9(): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
