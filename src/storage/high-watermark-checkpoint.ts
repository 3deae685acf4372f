// The high-watermark checkpoint of one replicated partition: the file `high-watermark-checkpoint`
// in its directory, as Kafka's replication-offset-checkpoint but one per partition. Owner thread
// (the worker that hosts the replica; synchronous, a few bytes every few seconds). Written by the
// replication layer (src/broker/replication); it lives here because it is a file of the partition
// directory, which the log loader must recognise.
//
// Why: the high watermark lives in memory. Without the file a restarted replica starts at 0, so a
// restarted leader shows its consumers nothing until every ISR member has fetched again, and a
// follower whose leader cannot answer by epoch truncates to 0 and fetches everything again.
//
// Crash stance: the value is only ever one the replica had reached, so a stale file (the last
// write lost) is merely low, which is safe: the high watermark then catches up as before. A torn
// file cannot happen (written to a temp file and renamed over), and a missing or unreadable one
// counts as 0. So no fsync: a lost write costs nothing but a lower start, and an fsync per
// partition every interval would cost every partition a disk round trip for no safety. On open
// the value is clamped to the log end (the log may have lost an unflushed tail).
//
// Format (text): line 1 version (0), line 2 the high watermark.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HIGH_WATERMARK_CHECKPOINT_FILE = 'high-watermark-checkpoint';
/** How often hosts write changed high watermarks (Kafka's replica.high.watermark.checkpoint.interval.ms). */
export const HIGH_WATERMARK_CHECKPOINT_INTERVAL_MS = 5000;
const VERSION = 0;

export class HighWatermarkCheckpoint {
  private readonly path: string;
  private written: number;

  constructor(dir: string) {
    this.path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    this.written = this.read();
  }

  /** What the file holds (0 when it is missing or unreadable). */
  get value(): number {
    return this.written;
  }

  /** Writes `highWatermark` if it differs from what the file holds. Throws what the file system throws. */
  write(highWatermark: number): void {
    if (highWatermark === this.written || highWatermark < 0) return;
    const temp = `${this.path}.tmp`;
    writeFileSync(temp, `${VERSION}\n${highWatermark}\n`);
    renameSync(temp, this.path);
    this.written = highWatermark;
  }

  private read(): number {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return 0;
    }
    const [version, value] = text.split('\n');
    const hw = Number(value);
    return version === String(VERSION) && Number.isSafeInteger(hw) && hw >= 0 ? hw : 0;
  }
}
