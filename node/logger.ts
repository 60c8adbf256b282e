import pino from 'pino';
import type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** JSON logs, pretty-printed when a person is watching a terminal. */
export function createLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  if (!pretty) return pino({ level, base: undefined });
  return pino({ level, base: undefined, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
}
