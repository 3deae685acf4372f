// Structured logs (pino), one line per event that matters. Any thread: each thread makes its own.

import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger at `level` (default: RILL_LOG_LEVEL, else info), writing JSON lines to stdout. */
export function createLogger(bindings: Record<string, unknown> = {}, level: string = process.env.RILL_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } });
}

/** A logger that drops everything, for callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
