/**
 * SIGINT/SIGTERM for the long-running commands, installed before start-up: a signal that comes
 * while the process is still starting (a supervisor, a test that stops a node at its first log
 * line) stops it once it is up, where the default action would have killed it without a clean
 * close. A second signal exits at once.
 */
import type { Logger } from 'pino';

export interface StopOnSignals {
  /** The process is up: `close` runs on the first signal (now, if one came during start-up). */
  up(close: () => Promise<void>): void;
}

export function stopOnSignals(logger: Logger, message: string): StopOnSignals {
  let close: (() => Promise<void>) | undefined;
  let requested: string | undefined;
  const run = (c: () => Promise<void>) => {
    void c().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (requested !== undefined) process.exit(1);
    requested = signal;
    logger.info({ signal }, message);
    if (close !== undefined) run(close);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return {
    up(c) {
      close = c;
      if (requested !== undefined) run(c);
    },
  };
}
