import { describe, expect, it } from 'vitest';
import { existsSync, openSync, readFileSync, closeSync, writeSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, decodeRecordBatches, type LogConfig } from '../../src/storage/index.js';
import { RillError } from '../../src/errors.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf, text, valueFor } from '../helpers/records.js';
import { captureLogger } from '../helpers/capture-logger.js';

const tempDir = tempDirs();
const SMALL: Partial<LogConfig> = { segmentBytes: 16 * 1024, indexIntervalBytes: 512 };
const stem = (dir: string, base: number) => join(dir, String(base).padStart(20, '0'));

async function makeLog(batches: number, perBatch = 5, config: Partial<LogConfig> = SMALL): Promise<PartitionLog> {
  const log = await PartitionLog.open(tempDir(), { config });
  for (let i = 0; i < batches; i++) await log.append(batchOf(log.logEndOffset, perBatch));
  return log;
}

/** Byte positions of the batches in a segment file, from their length fields. */
function batchPositions(path: string): number[] {
  const bytes = readFileSync(path);
  const positions: number[] = [];
  for (let pos = 0; pos + 12 <= bytes.length; pos += 12 + bytes.readInt32BE(pos + 8)) positions.push(pos);
  return positions;
}

function patch(path: string, position: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

describe('corruption', () => {
  it('reports a corrupt batch inside a sealed segment with file and byte position; what precedes stays readable', async () => {
    const log = await makeLog(100);
    const [, second] = log.segmentBaseOffsets();
    await log.close();
    const file = stem(log.dir, second) + '.log';
    const positions = batchPositions(file);
    const bad = positions[Math.floor(positions.length / 2)];
    patch(file, bad + 100, Uint8Array.of(0xde, 0xad)); // inside the records, under the CRC

    const reopened = await PartitionLog.open(log.dir, { config: SMALL });
    expect(reopened.recovery.clean).toBe(true); // sealed data is not rescanned at open
    let offset = 0;
    let lastGood = -1;
    let failure: RillError | null = null;
    while (offset < reopened.logEndOffset && failure === null) {
      try {
        const result = reopened.read(offset, 4096);
        for (const batch of decodeRecordBatches(result.records)) {
          for (const record of batch.records) {
            expect(text(record.value)).toBe(valueFor(record.offset));
            lastGood = record.offset;
          }
        }
        offset = result.nextOffset;
      } catch (error) {
        failure = error as RillError;
      }
    }
    expect(failure).toBeInstanceOf(RillError);
    expect(failure!.type).toBe('CORRUPT_MESSAGE');
    expect(failure!.details).toEqual({ file, position: bad });
    expect(failure!.message).toContain(`${file} at byte ${bad}`);
    expect(failure!.message).toMatch(/CRC mismatch/);
    // Every record before the corrupt batch was read, in order.
    expect(offset).toBe(lastGood + 1);
    expect(lastGood).toBeGreaterThan(second);
    // Batches after it, in the same segment and later ones, are still reachable by offset.
    const after = reopened.read(lastGood + 6, 4096);
    expect(decodeRecordBatches(after.records)[0].baseOffset).toBe(lastGood + 6);
    await reopened.close();
  });

  it('cuts a torn tail on recovery: half a batch, then garbage', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { flushIntervalMs: 1_000_000 } });
    for (let i = 0; i < 20; i++) await log.append(batchOf(log.logEndOffset, 5));
    await log.flush();
    const end = log.size;
    // Simulate a crash in the middle of copying a batch: half of it lands after the last one.
    const half = batchOf(100, 5);
    patch(stem(dir, 0) + '.log', end, half.subarray(0, half.length >> 1));
    const { logger, warnings } = captureLogger();
    const reopened = await PartitionLog.open(dir, { logger });
    expect(reopened.recovery.truncated).toMatchObject({ file: stem(dir, 0) + '.log', position: end });
    expect(reopened.logEndOffset).toBe(100);
    expect(reopened.size).toBe(end);
    expect(statSync(stem(dir, 0) + '.log').size).toBe(end); // the stale bytes are gone from the file
    expect(warnings().some((w) => w.msg.includes('torn'))).toBe(true);
    // Appending again works and the new record is what gets read back, not the stale half.
    await reopened.append(batchOf(100, 5));
    const last = decodeRecordBatches(reopened.read(100, 4096).records);
    expect(last[0].records.map((r) => text(r.value))).toEqual([100, 101, 102, 103, 104].map((o) => valueFor(o)));
    await reopened.close();
  });

  it('drops a stale batch whose offsets do not continue the log', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { flushIntervalMs: 1_000_000 } });
    for (let i = 0; i < 5; i++) await log.append(batchOf(log.logEndOffset, 2));
    await log.flush();
    const end = log.size;
    // A whole, valid batch — but for offset 3, not 10: left over from an earlier write.
    patch(stem(dir, 0) + '.log', end, batchOf(3, 2));
    const reopened = await PartitionLog.open(dir);
    expect(reopened.logEndOffset).toBe(10);
    expect(reopened.recovery.truncated?.reason).toMatch(/base offset 0 where 10 or more was expected/);
    await reopened.close();
  });

  it('rebuilds missing index files, with a warning', async () => {
    const log = await makeLog(100);
    const bases = log.segmentBaseOffsets();
    await log.close();
    unlinkSync(stem(log.dir, bases[1]) + '.index');
    unlinkSync(stem(log.dir, bases[2]) + '.timeindex');
    unlinkSync(stem(log.dir, bases[bases.length - 1]) + '.index');
    const { logger, warnings } = captureLogger();
    const reopened = await PartitionLog.open(log.dir, { config: SMALL, logger });
    expect(reopened.recovery.rebuiltIndexes).toHaveLength(3);
    expect(warnings().filter((w) => w.msg.includes('rebuilding'))).toHaveLength(3);
    for (const base of bases) {
      expect(existsSync(stem(log.dir, base) + '.index')).toBe(true);
      expect(existsSync(stem(log.dir, base) + '.timeindex')).toBe(true);
    }
    // Index lookups land on the right batches again.
    for (const offset of [bases[1] + 7, bases[2] + 3, bases[bases.length - 1] + 1]) {
      const [first] = decodeRecordBatches(reopened.read(offset, 1).records);
      expect(first.baseOffset).toBeLessThanOrEqual(offset);
      expect(first.baseOffset + first.lastOffsetDelta).toBeGreaterThanOrEqual(offset);
    }
    expect(reopened.offsetForTimestamp(0)).toMatchObject({ offset: 0 });
    await reopened.close();
  });

  it('ignores unknown files with a warning and deletes index files that have no segment', async () => {
    const log = await makeLog(3);
    await log.close();
    writeFileSync(join(log.dir, 'notes.txt'), 'hello');
    writeFileSync(join(log.dir, 'backup.log'), 'not a segment');
    writeFileSync(stem(log.dir, 99999) + '.index', Buffer.alloc(16));
    const { logger, warnings } = captureLogger();
    const reopened = await PartitionLog.open(log.dir, { logger });
    expect(reopened.recovery.ignoredFiles.sort()).toEqual(['backup.log', 'notes.txt']);
    expect(warnings().filter((w) => w.msg.includes('unknown file'))).toHaveLength(2);
    expect(existsSync(join(log.dir, 'notes.txt'))).toBe(true);
    expect(existsSync(stem(log.dir, 99999) + '.index')).toBe(false);
    expect(reopened.logEndOffset).toBe(15);
    await reopened.close();
  });

  it('falls back to the other checkpoint slot, and to a full scan when both are damaged', async () => {
    const log = await makeLog(50);
    const end = log.logEndOffset;
    await log.close();
    const checkpoint = join(log.dir, 'checkpoint');
    const original = readFileSync(checkpoint);

    // Damage the newest slot: the older one (still a valid checkpoint) is used; recovery scans.
    const newest = original.readBigInt64BE(8) > original.readBigInt64BE(512 + 8) ? 0 : 512;
    patch(checkpoint, newest + 20, Uint8Array.of(0xff));
    const once = await PartitionLog.open(log.dir, { config: SMALL });
    expect(once.recovery.clean).toBe(false);
    expect(once.logEndOffset).toBe(end);
    await once.close();

    // Damage both: no checkpoint, so every segment is scanned and the log is intact.
    const afterClose = readFileSync(checkpoint);
    patch(checkpoint, 20, Uint8Array.of(afterClose[20] ^ 0xff));
    patch(checkpoint, 512 + 20, Uint8Array.of(afterClose[512 + 20] ^ 0xff));
    const { logger } = captureLogger();
    const scanned = await PartitionLog.open(log.dir, { config: SMALL, logger });
    expect(scanned.recovery.clean).toBe(false);
    expect(scanned.recovery.scannedBytes).toBe(scanned.size);
    expect(scanned.logEndOffset).toBe(end);
    await scanned.close();
  });
});
