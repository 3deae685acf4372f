// What the loaders of a partition's derived state (producer state, leader epochs) need of its log:
// its bounds and a way to read whole batches. Owner thread only (it reads the owner's mapping).

import type { Logger } from '../logger.js';

export interface LogScan {
  readonly dir: string;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly logger: Logger;
  read(offset: number, maxBytes: number): { records: Uint8Array; nextOffset: number };
}

/** Bytes per read while scanning batch headers. */
export const SCAN_READ_BYTES = 4 * 1024 * 1024;

/** Calls `visit(records, pos)` for each batch whose offsets reach `from` or beyond, oldest first. */
export function scanBatches(log: LogScan, from: number, visit: (records: Uint8Array, pos: number) => void, size: (records: Uint8Array, pos: number) => number): void {
  for (let offset = from; offset < log.logEndOffset; ) {
    const { records, nextOffset } = log.read(offset, SCAN_READ_BYTES);
    if (records.length === 0) break;
    for (let pos = 0; pos < records.length; pos += size(records, pos)) visit(records, pos);
    offset = nextOffset;
  }
}
