import { describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, decodeRecordBatches, encodeRecordBatch, type LogConfig } from '../../src/storage/index.js';
import { RillError } from '../../src/errors.js';
import { nativeIo, type FileIo } from '../../src/native/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf, range, readBack, text, valueFor } from '../helpers/records.js';

const tempDir = tempDirs();

const SMALL: Partial<LogConfig> = { segmentBytes: 16 * 1024, indexIntervalBytes: 512 };

/** Appends `batches` batches of `perBatch` records each; returns the log end. */
async function fill(log: PartitionLog, batches: number, perBatch: number, timestamp?: (i: number) => number): Promise<number> {
  for (let i = 0; i < batches; i++) {
    await log.append(batchOf(log.logEndOffset, perBatch, { timestamp: timestamp?.(i) }));
  }
  return log.logEndOffset;
}

/** Reads every record to the log end, checking each one is the record for its offset. */
const readAll = (log: PartitionLog, from?: number) => readBack(log, { from, maxBytes: 3000 });

describe('PartitionLog append and read', () => {
  it('assigns contiguous offsets and reads every record back across many segment rolls', async () => {
    const log = await PartitionLog.open(tempDir(), { config: SMALL });
    const results = [];
    for (let i = 0; i < 300; i++) results.push(await log.append(batchOf(log.logEndOffset, 1 + (i % 7))));
    expect(results[0].baseOffset).toBe(0);
    for (let i = 1; i < results.length; i++) expect(results[i].baseOffset).toBe(results[i - 1].lastOffset + 1);
    expect(log.segmentCount).toBeGreaterThan(5);
    expect(readAll(log)).toEqual(range(0, log.logEndOffset));
    // Reads from any offset start at the batch that holds it.
    for (const offset of [0, 1, 57, 500, log.logEndOffset - 1]) {
      const result = log.read(offset, 1);
      const [first] = decodeRecordBatches(result.records);
      expect(first.baseOffset).toBeLessThanOrEqual(offset);
      expect(first.baseOffset + first.lastOffsetDelta).toBeGreaterThanOrEqual(offset);
    }
    await log.close();
  });

  it('returns at least one whole batch even when it exceeds maxBytes, and respects maxBytes otherwise', async () => {
    const log = await PartitionLog.open(tempDir());
    await fill(log, 10, 20); // ~2.5 KB batches
    const one = log.read(0, 10);
    expect(decodeRecordBatches(one.records)).toHaveLength(1);
    expect(one.nextOffset).toBe(20);
    const some = log.read(0, 6000);
    expect(some.records.length).toBeLessThanOrEqual(6000);
    expect(decodeRecordBatches(some.records).length).toBe(Math.floor(6000 / one.records.length));
    await log.close();
  });

  it('stops before maxOffset (the high watermark, for replication later)', async () => {
    const log = await PartitionLog.open(tempDir());
    await fill(log, 5, 10);
    const result = log.read(0, 1 << 20, { maxOffset: 30 });
    expect(result.nextOffset).toBe(30);
    expect(decodeRecordBatches(result.records)).toHaveLength(3);
    expect(log.read(30, 1 << 20, { maxOffset: 30 }).records.length).toBe(0);
    await log.close();
  });

  it('accepts a record set of several batches as one append', async () => {
    const log = await PartitionLog.open(tempDir());
    const a = batchOf(0, 3);
    const b = batchOf(3, 2);
    const set = new Uint8Array(a.length + b.length);
    set.set(a);
    set.set(b, a.length);
    const result = await log.append(set);
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 4, recordCount: 5 });
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4]);
    await log.close();
  });

  it('answers at the log end with an empty read and outside the log with OFFSET_OUT_OF_RANGE', async () => {
    const log = await PartitionLog.open(tempDir());
    await fill(log, 2, 5);
    expect(log.read(10, 100)).toMatchObject({ nextOffset: 10, logEndOffset: 10 });
    expect(log.read(10, 100).records.length).toBe(0);
    for (const bad of [11, -1, 1.5]) {
      try {
        log.read(bad, 100);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(RillError);
        expect((error as RillError).type).toBe('OFFSET_OUT_OF_RANGE');
        expect((error as RillError).details).toMatchObject({ logStartOffset: 0, logEndOffset: 10 });
      }
    }
    expect(() => log.read(0, 0)).toThrow(expect.objectContaining({ type: 'INVALID_FETCH_SIZE' }));
    await log.close();
  });

  it('rejects invalid batches with a clear error and writes nothing', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir);
    await fill(log, 1, 3);
    const sizeBefore = log.size;
    const good = batchOf(0, 2);
    const badCrc = good.slice();
    badCrc[40] ^= 1;
    const badMagic = good.slice();
    badMagic[16] = 0;
    const truncated = good.subarray(0, good.length - 5);
    const goodThenBad = new Uint8Array(good.length + badCrc.length);
    goodThenBad.set(good);
    goodThenBad.set(badCrc, good.length);
    const cases: [Uint8Array, string, RegExp][] = [
      [badCrc, 'INVALID_RECORD', /CRC mismatch/],
      [badMagic, 'INVALID_RECORD', /magic 0/],
      [truncated, 'INVALID_RECORD', /runs past/],
      [goodThenBad, 'INVALID_RECORD', /batch 1 at byte/],
      [new Uint8Array(0), 'INVALID_RECORD', /empty/],
    ];
    for (const [bytes, type, message] of cases) {
      await expect(log.append(bytes)).rejects.toMatchObject({ type, message: expect.stringMatching(message) });
    }
    expect(log.logEndOffset).toBe(3);
    expect(log.size).toBe(sizeBefore);
    await log.append(batchOf(3, 2));
    expect(readAll(log)).toEqual([0, 1, 2, 3, 4]);
    await log.close();
  });

  it('rejects batches over max.message.bytes and record sets over segment.bytes', async () => {
    const log = await PartitionLog.open(tempDir(), { config: { maxMessageBytes: 1000, segmentBytes: 8192 } });
    await expect(log.append(batchOf(0, 20))).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    await expect(log.append(batchOf(0, 10, { size: 1000 }))).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    expect(log.logEndOffset).toBe(0);
    await log.close();
  });

  it('stamps the leader epoch into appended batches', async () => {
    const log = await PartitionLog.open(tempDir(), { leaderEpoch: 4 });
    await fill(log, 1, 1);
    log.leaderEpoch = 5;
    await fill(log, 1, 1);
    const [a, b] = decodeRecordBatches(log.read(0, 1 << 20).records);
    expect([a.partitionLeaderEpoch, b.partitionLeaderEpoch]).toEqual([4, 5]);
    await log.close();
  });
});

describe('segments and indexes', () => {
  it('grows segment files in chunks and trims sealed segments to their real length', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { segmentBytes: 1 << 30 } });
    await fill(log, 1, 1);
    // A 1 GiB segment holding one record takes a first chunk, not a gigabyte.
    expect(statSync(join(dir, '00000000000000000000.log')).size).toBeLessThanOrEqual(256 * 1024);
    await log.close();
    expect(statSync(join(dir, '00000000000000000000.log')).size).toBe(log.size);

    const rolled = await PartitionLog.open(tempDir(), { config: SMALL });
    await fill(rolled, 100, 5);
    const bases = rolled.segmentBaseOffsets();
    for (const base of bases.slice(0, -1)) {
      const stem = join(rolled.dir, String(base).padStart(20, '0'));
      const size = statSync(stem + '.log').size;
      expect(size).toBeLessThanOrEqual(16 * 1024);
      expect(statSync(stem + '.index').size % 8).toBe(0);
      expect(statSync(stem + '.timeindex').size % 12).toBe(0);
      expect(statSync(stem + '.index').size).toBeGreaterThan(0);
    }
    await rolled.close();
  });

  it('names files by base offset and rolls by segment.ms on a clock', async () => {
    let now = 1_000_000;
    const log = await PartitionLog.open(tempDir(), { config: { segmentMs: 60_000 }, clock: () => now });
    await fill(log, 3, 2);
    expect(log.segmentCount).toBe(1);
    now += 60_000;
    await fill(log, 1, 2);
    expect(log.segmentBaseOffsets()).toEqual([0, 6]);
    expect(readdirSync(log.dir).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
      '00000000000000000006.index',
      '00000000000000000006.log',
      '00000000000000000006.snapshot', // producer state as of the roll (producer-snapshot.ts)
      '00000000000000000006.timeindex',
      'checkpoint',
      'leader-epoch-checkpoint', // epoch -> start offset (leader-epoch-checkpoint.ts)
    ]);
    await log.close();
  });

  it('finds the first record at or after a timestamp, across segments', async () => {
    const log = await PartitionLog.open(tempDir(), { config: SMALL });
    // Batch i holds 3 records stamped 1000 + 10 * i.
    await fill(log, 200, 3, (i) => 1000 + 10 * i);
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1000)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1001)).toEqual({ offset: 3, timestamp: 1010 });
    expect(log.offsetForTimestamp(1500)).toEqual({ offset: 150, timestamp: 1500 });
    expect(log.offsetForTimestamp(1000 + 10 * 199)).toEqual({ offset: 597, timestamp: 2990 });
    expect(log.offsetForTimestamp(3000)).toBeNull();
    await log.close();
    const reopened = await PartitionLog.open(log.dir, { config: SMALL });
    expect(reopened.offsetForTimestamp(1500)).toEqual({ offset: 150, timestamp: 1500 });
    await reopened.close();
  });

  it('finds records by timestamp inside a batch whose timestamps are out of order', async () => {
    const log = await PartitionLog.open(tempDir());
    await log.append(
      encodeRecordBatch({ records: [500, 300, 900, 700].map((timestamp, i) => ({ value: `v${i}`, timestamp })) }),
    );
    expect(log.offsetForTimestamp(301)).toEqual({ offset: 0, timestamp: 500 });
    expect(log.offsetForTimestamp(600)).toEqual({ offset: 2, timestamp: 900 });
    await log.close();
  });
});

describe('retention', () => {
  it('deletes whole sealed segments older than retention.ms, never the active one', async () => {
    let now = 10_000_000;
    const log = await PartitionLog.open(tempDir(), { config: { ...SMALL, retentionMs: 1000 }, clock: () => now });
    await fill(log, 60, 5, () => now - 5000); // old records
    const oldSegments = log.segmentCount;
    await fill(log, 30, 5, () => now); // fresh records, in newer segments
    expect(log.deleteRetainedSegments()).toMatchObject({ deletedSegments: oldSegments - 1 });
    // The segment holding both old and new records stays; every remaining record is readable.
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(readAll(log)).toEqual(range(log.logStartOffset, log.logEndOffset));
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ type: 'OFFSET_OUT_OF_RANGE' }));
    now += 1_000_000;
    log.deleteRetainedSegments();
    expect(log.segmentCount).toBe(1);
    await log.close();
  });

  it('deletes the oldest sealed segments while the log exceeds retention.bytes', async () => {
    const log = await PartitionLog.open(tempDir(), { config: { ...SMALL, retentionBytes: 40 * 1024, retentionMs: -1 } });
    await fill(log, 200, 5);
    const before = log.size;
    const result = log.deleteRetainedSegments();
    expect(result.deletedSegments).toBeGreaterThan(0);
    expect(log.size).toBe(before - result.deletedBytes);
    expect(log.size).toBeGreaterThanOrEqual(40 * 1024);
    expect(readAll(log)).toEqual(range(log.logStartOffset, log.logEndOffset));
    // One more sealed segment gone would take it under the limit, so it stays.
    expect(log.deleteRetainedSegments().deletedSegments).toBe(0);
    await log.close();
    const reopened = await PartitionLog.open(log.dir, { config: SMALL });
    expect(reopened.logStartOffset).toBe(log.logStartOffset);
    await reopened.close();
  });
});

describe('truncateTo', () => {
  it('removes the batch holding the offset and everything after, across segments', async () => {
    const log = await PartitionLog.open(tempDir(), { config: SMALL });
    await fill(log, 200, 5);
    const segments = log.segmentCount;
    expect(log.truncateTo(503)).toBe(500); // batches of 5: offset 503 lives in the batch at 500
    expect(log.logEndOffset).toBe(500);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(readAll(log)).toEqual(range(0, 500));
    // Appends continue from the new end, in the segment that now is active.
    await fill(log, 10, 5);
    expect(readAll(log)).toEqual(range(0, 550));
    expect(log.truncateTo(10_000)).toBe(550);
    await log.close();
    const reopened = await PartitionLog.open(log.dir, { config: SMALL });
    expect(reopened.logEndOffset).toBe(550);
    expect(readAll(reopened)).toEqual(range(0, 550));
    await reopened.close();
  });

  it('survives a crash after truncation without resurrecting removed records', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    await fill(log, 40, 5);
    log.truncateTo(100);
    await log.append(batchOf(100, 1));
    await log.flush();
    // No close: reopening runs recovery, which must not pick up the old batches after 101.
    const reopened = await PartitionLog.open(dir, { config: SMALL });
    expect(reopened.recovery.clean).toBe(false);
    expect(reopened.logEndOffset).toBe(101);
    expect(readAll(reopened)).toEqual(range(0, 101));
    await reopened.close();
  });

  it('empties the log and restarts at the offset when truncating below the log start', async () => {
    const log = await PartitionLog.open(tempDir(), { config: { ...SMALL, retentionBytes: 20 * 1024, retentionMs: -1 } });
    await fill(log, 100, 5);
    log.deleteRetainedSegments();
    const start = log.logStartOffset;
    expect(start).toBeGreaterThan(0);
    expect(log.truncateTo(start - 10)).toBe(start - 10);
    expect(log.logStartOffset).toBe(start - 10);
    expect(log.segmentCount).toBe(1);
    await log.append(batchOf(start - 10, 3));
    expect(readAll(log)).toEqual(range(start - 10, start - 7));
    await log.close();
  });
});

describe('reopen and recovery', () => {
  it('reopens a cleanly closed log without scanning anything', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    await fill(log, 150, 4);
    await log.close();
    const reopened = await PartitionLog.open(dir, { config: SMALL });
    expect(reopened.recovery).toMatchObject({ clean: true, scannedBytes: 0, truncated: null });
    expect(reopened.logEndOffset).toBe(600);
    expect(readAll(reopened)).toEqual(range(0, 600));
    await fill(reopened, 5, 4);
    expect(readAll(reopened)).toEqual(range(0, 620));
    await reopened.close();
  });

  it('unmaps the pages the writer left behind before any fdatasync, and loses none of their bytes', async () => {
    const dir = tempDir();
    const dropped: { offset: number; length: number }[] = [];
    const io: FileIo = { ...nativeIo, madvise: (m, offset, length, advice) => (dropped.push({ offset, length }), nativeIo.madvise(m, offset, length, advice)) };
    const log = await PartitionLog.open(dir, { io, config: { flushIntervalMs: 1_000_000 } });
    await fill(log, 100, 1000); // ~12 MiB, nothing synced
    expect(log.flushedOffset).toBe(0);
    const droppedTo = Math.max(...dropped.map((d) => d.offset + d.length));
    expect(droppedTo).toBeGreaterThan(log.size - (2 << 20));
    expect(droppedTo).toBeLessThanOrEqual(log.size - (256 << 10)); // the last 256 KiB stay mapped
    // Abandon the log (a crash: the page cache keeps what the mapping held, dropped or not).
    const reopened = await PartitionLog.open(dir);
    expect(reopened.logEndOffset).toBe(100_000);
    expect(readBack(reopened)).toEqual(range(0, 100_000));
    await reopened.close();
  });

  it('recovers an unclean shutdown by scanning only what follows the checkpoint', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { flushIntervalMs: 1_000_000 } });
    await fill(log, 100, 10);
    await log.flush(); // checkpoint at offset 1000
    const checkpointedBytes = log.size;
    await fill(log, 10, 10);
    // Abandon the log as a crash would (no close); the page cache still holds every byte.
    const reopened = await PartitionLog.open(dir);
    expect(reopened.recovery.clean).toBe(false);
    expect(reopened.recovery.scannedBytes).toBe(reopened.size - checkpointedBytes);
    expect(reopened.logEndOffset).toBe(1100);
    expect(readAll(reopened)).toEqual(range(0, 1100));
    await reopened.close();
  });

  it('refuses use after close with LOG_CLOSED', async () => {
    const log = await PartitionLog.open(tempDir());
    await log.close();
    await log.close(); // idempotent
    await expect(log.append(batchOf(0, 1))).rejects.toMatchObject({ type: 'LOG_CLOSED', retriable: true });
    await expect(log.waitForDurable(10)).rejects.toMatchObject({ type: 'LOG_CLOSED' });
    expect(() => log.read(0, 10)).toThrow(expect.objectContaining({ type: 'LOG_CLOSED' }));
  });

  it('closes with appends in flight: they settle, and no flush runs after close', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { flushMode: 'sync' } });
    const pending = Array.from({ length: 20 }, (_, i) => log.append(batchOf(i, 1)));
    await log.close();
    const settled = await Promise.allSettled(pending);
    // Each append either became durable with the close, or was refused as LOG_CLOSED; none hang.
    for (const result of settled) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ type: 'LOG_CLOSED' });
    }
    const reopened = await PartitionLog.open(dir);
    expect(reopened.recovery.clean).toBe(true);
    expect(reopened.logEndOffset).toBe(20);
    await reopened.close();
  });

  it('reports a directory it cannot open as STORAGE_ERROR', async () => {
    const file = join(tempDir(), 'not-a-dir');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'x');
    await expect(PartitionLog.open(join(file, 'p'))).rejects.toMatchObject({ type: 'STORAGE_ERROR', details: { errno: 'ENOTDIR' } });
  });

  it('rejects bad configuration with INVALID_CONFIG naming the property', async () => {
    await expect(PartitionLog.open(tempDir(), { config: { segmentBytes: 10 } })).rejects.toMatchObject({
      type: 'INVALID_CONFIG',
      message: expect.stringContaining('segment.bytes'),
    });
    await expect(PartitionLog.open(tempDir(), { config: { flushMode: 'sometimes' as 'sync' } })).rejects.toMatchObject({
      type: 'INVALID_CONFIG',
      message: expect.stringContaining('flush.mode'),
    });
  });
});

describe('durability modes', () => {
  /** An io whose fdatasyncAsync calls are counted and can be held until released. */
  function controlledIo() {
    let held: (() => void)[] | null = null;
    const state = { syncs: 0 };
    const io: FileIo = {
      ...nativeIo,
      fdatasyncAsync: async (fd) => {
        state.syncs++;
        if (held !== null) await new Promise<void>((resolve) => held!.push(resolve));
        return nativeIo.fdatasyncAsync(fd);
      },
    };
    return {
      io,
      state,
      hold: () => {
        held = [];
      },
      release: () => {
        const waiting = held ?? [];
        held = null;
        for (const resolve of waiting) resolve();
      },
    };
  }

  it('sync mode resolves an append only after the fdatasync that covers it', async () => {
    const control = controlledIo();
    const log = await PartitionLog.open(tempDir(), { io: control.io, config: { flushMode: 'sync' } });
    control.hold();
    let resolved = false;
    const pending = log.append(batchOf(0, 5)).then((r) => {
      resolved = true;
      return r;
    });
    // The write is visible to readers at once; the acknowledgement waits for the disk.
    expect(log.logEndOffset).toBe(5);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(control.state.syncs).toBeGreaterThan(0);
    expect(resolved).toBe(false);
    expect(log.flushedOffset).toBe(0);
    control.release();
    expect(await pending).toMatchObject({ baseOffset: 0, lastOffset: 4 });
    expect(log.flushedOffset).toBe(5);
    await log.close();
  });

  it('sync mode shares one fdatasync among concurrent appends (group commit)', async () => {
    const control = controlledIo();
    const log = await PartitionLog.open(tempDir(), { io: control.io, config: { flushMode: 'sync' } });
    const before = control.state.syncs;
    const appenders = 16;
    const perAppender = 20;
    await Promise.all(
      Array.from({ length: appenders }, async () => {
        for (let i = 0; i < perAppender; i++) await log.append(batchOf(0, 10));
      }),
    );
    const syncs = control.state.syncs - before;
    expect(log.logEndOffset).toBe(appenders * perAppender * 10);
    // 320 appends; with group commit each fdatasync covers many of them.
    expect(syncs).toBeLessThan((appenders * perAppender) / 4);
    expect(log.flushedOffset).toBe(log.logEndOffset);
    await log.close();
  });

  it('async mode acknowledges at once and fdatasyncs within flush.interval.ms', async () => {
    const control = controlledIo();
    const log = await PartitionLog.open(tempDir(), { io: control.io, config: { flushMode: 'async', flushIntervalMs: 20 } });
    control.hold();
    const result = await log.append(batchOf(0, 5)); // resolves although no sync can complete
    expect(result.lastOffset).toBe(4);
    expect(log.flushedOffset).toBe(0);
    control.release();
    const deadline = Date.now() + 5000;
    while (log.flushedOffset < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log.flushedOffset).toBe(5);
    await log.close();
  });

  it('async mode starts the due fdatasync from write() when the owner never yields', () => {
    const control = controlledIo();
    let now = 1_000_000;
    return PartitionLog.open(tempDir(), { io: control.io, clock: () => now, config: { flushMode: 'async', flushIntervalMs: 1000 } }).then(async (log) => {
      const before = control.state.syncs;
      // A tight loop of synchronous writes: no timer can fire, no promise can settle in between.
      for (let i = 0; i < 10; i++) {
        log.write(batchOf(log.logEndOffset, 5));
        now += 300;
      }
      expect(control.state.syncs - before).toBeGreaterThanOrEqual(2);
      await log.close();
    });
  });

  it('after a crash, claims durable only what the checkpoint covered until a flush has synced the rest', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: { flushIntervalMs: 1_000_000 } });
    await fill(log, 10, 10);
    await log.flush();
    await fill(log, 5, 10);
    const reopened = await PartitionLog.open(dir, { config: { flushMode: 'sync' } }); // the first was never closed
    expect(reopened.logEndOffset).toBe(150);
    expect(reopened.flushedOffset).toBe(100);
    await reopened.append(batchOf(150, 10)); // its fdatasync covers the recovered tail too
    expect(reopened.flushedOffset).toBe(160);
    await reopened.close();
  });

  it('a failed fdatasync fails the waiting appends and stops further writes until reopened', async () => {
    const dir = tempDir();
    let failSync = false;
    const io: FileIo = {
      ...nativeIo,
      fdatasyncAsync: (fd) =>
        failSync ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: 5, syscall: 'fdatasync' })) : nativeIo.fdatasyncAsync(fd),
    };
    const log = await PartitionLog.open(dir, { io, config: { flushMode: 'sync' } });
    await log.append(batchOf(0, 2));
    failSync = true;
    await expect(log.append(batchOf(2, 2))).rejects.toMatchObject({ type: 'STORAGE_ERROR', details: { errno: 'EIO' } });
    await expect(log.append(batchOf(4, 2))).rejects.toMatchObject({ type: 'STORAGE_ERROR' });
    // What was written stays readable; only writing stops.
    expect(decodeRecordBatches(log.read(0, 100).records)[0].records.map((r) => text(r.value))).toEqual([valueFor(0), valueFor(1)]);
    await log.close();
    const reopened = await PartitionLog.open(dir);
    expect(reopened.logEndOffset).toBeGreaterThanOrEqual(2);
    await reopened.close();
  });
});
