// A pino logger whose lines a test can inspect.

import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';

export interface CapturedLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export function captureLogger(level = 'debug'): { logger: Logger; lines: CapturedLine[]; warnings: () => CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level }, stream);
  return { logger, lines, warnings: () => lines.filter((l) => l.level >= 40) };
}
