// Idempotent producers at the partition log: retries answered with the original offsets, gaps and
// fenced epochs refused, and the producer state surviving clean restarts, crashes, rolls and
// truncation (producer-state.ts, producer-snapshot.ts).

import { describe, expect, it } from 'vitest';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, encodeRecordBatch, type LogConfig } from '../../src/storage/index.js';
import { Errors } from '../../src/errors.js';
import { snapshotPath } from '../../src/storage/producer-snapshot.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { range, readBack, valueFor } from '../helpers/records.js';
import { captureLogger } from '../helpers/capture-logger.js';

const tempDir = tempDirs();
const SMALL: Partial<LogConfig> = { segmentBytes: 8 * 1024, indexIntervalBytes: 512 };

/** A batch of `count` records whose values are those readBack expects for offsets from `firstOffset`. */
function producerBatch(producerId: number, epoch: number, baseSequence: number, firstOffset: number, count: number): Uint8Array {
  return encodeRecordBatch({
    producerId,
    producerEpoch: epoch,
    baseSequence,
    records: range(firstOffset, firstOffset + count).map((o) => ({ key: `key-${o}`, value: valueFor(o) })),
  });
}

const snapshots = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.snapshot')).sort();

describe('idempotent appends', () => {
  it('answers a retried batch with its original offsets and appends nothing', async () => {
    const log = await PartitionLog.open(tempDir());
    const first = await log.append(producerBatch(1, 0, 0, 0, 5));
    const second = await log.append(producerBatch(1, 0, 5, 5, 5));
    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 4 });
    const retry = await log.append(producerBatch(1, 0, 0, 0, 5));
    expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 4, recordCount: 5, duplicate: true });
    expect(await log.append(producerBatch(1, 0, 5, 5, 5))).toMatchObject({ baseOffset: second.baseOffset, duplicate: true });
    expect(log.logEndOffset).toBe(10);
    expect(readBack(log)).toEqual(range(0, 10));
    await log.close();
  });

  it('refuses a gap, an old epoch and an unknown producer mid-stream, and appends nothing for them', async () => {
    const log = await PartitionLog.open(tempDir());
    await log.append(producerBatch(1, 2, 0, 0, 3));
    await expect(log.append(producerBatch(1, 2, 4, 3, 1))).rejects.toMatchObject({ code: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code });
    await expect(log.append(producerBatch(1, 1, 3, 3, 1))).rejects.toMatchObject({ code: Errors.INVALID_PRODUCER_EPOCH.code });
    await expect(log.append(producerBatch(2, 0, 9, 3, 1))).rejects.toMatchObject({ code: Errors.UNKNOWN_PRODUCER_ID.code });
    expect(log.logEndOffset).toBe(3);
    // Batches of producers without an id are never checked, and other producers are independent.
    await log.append(producerBatch(-1, -1, -1, 3, 2));
    await log.append(producerBatch(2, 0, 0, 5, 1));
    await log.append(producerBatch(1, 2, 3, 6, 1));
    expect(readBack(log)).toEqual(range(0, 7));
    await log.close();
  });

  it('answers a whole retried record set, and refuses one that mixes retried and new batches', async () => {
    const log = await PartitionLog.open(tempDir());
    const a = producerBatch(4, 0, 0, 0, 2);
    const b = producerBatch(4, 0, 2, 2, 2);
    await log.append(Buffer.concat([a, b]));
    expect(await log.append(Buffer.concat([a, b]))).toMatchObject({ baseOffset: 0, lastOffset: 3, duplicate: true });
    await expect(log.append(Buffer.concat([b, producerBatch(4, 0, 4, 4, 1)]))).rejects.toMatchObject({
      code: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code,
    });
    expect(log.logEndOffset).toBe(4);
    await log.close();
  });

  it('keeps producer state across a clean restart without scanning the log', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir);
    await log.append(producerBatch(1, 0, 0, 0, 4));
    await log.close();
    expect(snapshots(dir)).toEqual(['00000000000000000004.snapshot']);
    const { logger, lines } = captureLogger();
    const reopened = await PartitionLog.open(dir, { logger });
    expect(reopened.producerState(1)).toEqual({ epoch: 0, lastSequence: 3, lastOffset: 3 });
    expect(lines.find((l) => l.msg === 'restored producer state')).toMatchObject({ batches: 0, producers: 1 });
    expect(await reopened.append(producerBatch(1, 0, 0, 0, 4))).toMatchObject({ duplicate: true });
    await reopened.close();
  });

  it('rebuilds producer state after a crash from the last roll snapshot and the batches after it', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    let offset = 0;
    for (let seq = 0; seq < 200; seq += 2) {
      await log.append(producerBatch(1, 0, seq, offset, 2));
      offset += 2;
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(snapshots(dir).length).toBe(2); // only the newest two are kept
    // Abandon the log as a crash would (no close).
    const reopened = await PartitionLog.open(dir, { config: SMALL });
    expect(reopened.recovery.clean).toBe(false);
    expect(reopened.producerState(1)).toEqual({ epoch: 0, lastSequence: 199, lastOffset: 199 });
    // Each of the last five batches is recognised as a retry; the next sequence is accepted.
    for (let seq = 190; seq < 200; seq += 2) expect(await reopened.append(producerBatch(1, 0, seq, seq, 2))).toMatchObject({ baseOffset: seq, duplicate: true });
    await expect(reopened.append(producerBatch(1, 0, 188, 188, 2))).rejects.toMatchObject({ code: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code });
    expect(await reopened.append(producerBatch(1, 0, 200, 200, 2))).toMatchObject({ baseOffset: 200 });
    expect(readBack(reopened, { maxBytes: 4096 })).toEqual(range(0, 202));
    await reopened.close();
  });

  it('never trusts a snapshot beyond the log end, and rebuilds state when the log is truncated', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    let offset = 0;
    for (let seq = 0; seq < 100; seq += 2) {
      await log.append(producerBatch(1, 0, seq, offset, 2));
      offset += 2;
    }
    const newest = snapshots(dir).at(-1)!;
    const snapshotOffset = Number(newest.slice(0, 20));
    // Truncation below the newest snapshot: the batches it describes are gone.
    const end = log.truncateTo(snapshotOffset - 10);
    expect(end).toBe(snapshotOffset - 10);
    expect(snapshots(dir)).not.toContain(newest);
    expect(log.producerState(1)).toMatchObject({ lastSequence: end - 1, lastOffset: end - 1 });
    // A retry of a truncated batch is a new append at the new end, not a duplicate.
    expect(await log.append(producerBatch(1, 0, end, end, 2))).toMatchObject({ baseOffset: end });
    await log.close();
  });

  it('ignores a corrupt snapshot and rebuilds from the log', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir);
    await log.append(producerBatch(1, 0, 0, 0, 3));
    await log.close();
    writeFileSync(snapshotPath(dir, 3), 'rill-producer-snapshot 1 0\n{"offset":3,"producers":[]}');
    const { logger, warnings } = captureLogger();
    const reopened = await PartitionLog.open(dir, { logger });
    expect(warnings().some((l) => l.msg === 'unusable producer snapshot; deleting it' && l.problem === 'CRC mismatch')).toBe(true);
    expect(reopened.producerState(1)).toEqual({ epoch: 0, lastSequence: 2, lastOffset: 2 });
    await reopened.close();
  });

  it('forgets producers idle past producer.id.expiration.ms at the retention check', async () => {
    let now = 1_000_000;
    const log = await PartitionLog.open(tempDir(), { clock: () => now, config: { producerIdExpirationMs: 60_000 } });
    await log.append(producerBatch(1, 0, 0, 0, 1));
    now += 30_000;
    log.deleteRetainedSegments();
    expect(log.producerCount).toBe(1);
    now += 31_000;
    log.deleteRetainedSegments();
    expect(log.producerCount).toBe(0);
    await expect(log.append(producerBatch(1, 0, 1, 1, 1))).rejects.toMatchObject({ code: Errors.UNKNOWN_PRODUCER_ID.code });
    await log.close();
  });
});
