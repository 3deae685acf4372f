// Structured logs (pino), one line per event that matters. Any thread: each thread makes its own.

import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger; RILL_LOG_LEVEL sets the level (default info). */
export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  return pino({ level: process.env.RILL_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...bindings } });
}

/** A logger that drops everything, for callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
