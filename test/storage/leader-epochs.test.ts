import { describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, decodeRecordBatches, encodeRecordBatch, type LogConfig } from '../../src/storage/index.js';
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, readLeaderEpochCheckpoint, writeLeaderEpochCheckpoint } from '../../src/storage/leader-epoch-checkpoint.js';
import { isRillError, Errors } from '../../src/errors.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf, range, readBack } from '../helpers/records.js';

const tempDir = tempDirs();
const SMALL: Partial<LogConfig> = { segmentBytes: 16 * 1024, indexIntervalBytes: 512 };

async function fill(log: PartitionLog, batches: number, perBatch = 3): Promise<void> {
  for (let i = 0; i < batches; i++) await log.append(batchOf(log.logEndOffset, perBatch));
}

function epochsOf(log: PartitionLog): number[] {
  const epochs: number[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const r = log.read(offset, 1 << 20);
    for (const b of decodeRecordBatches(r.records)) for (let i = 0; i <= b.lastOffsetDelta; i++) epochs.push(b.partitionLeaderEpoch);
    offset = r.nextOffset;
  }
  return epochs;
}

describe('leader-epoch checkpoint file', () => {
  it('round-trips entries and refuses malformed files with a reason', () => {
    const dir = tempDir();
    expect(readLeaderEpochCheckpoint(dir)).toEqual({ problem: 'missing' });
    writeLeaderEpochCheckpoint(dir, [{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 120 }]);
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n0 0\n3 120\n');
    expect(readLeaderEpochCheckpoint(dir)).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 120 }]);
    for (const bad of ['1\n0\n', '0\n2\n0 0\n', '0\n1\nx y\n', '0\n2\n3 10\n2 20\n', '0\n2\n1 10\n2 5\n']) {
      writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), bad);
      expect(readLeaderEpochCheckpoint(dir)).toHaveProperty('problem');
    }
  });
});

describe('LeaderEpochCache', () => {
  it('answers end offsets per epoch as Kafka does', () => {
    const { cache } = LeaderEpochCache.open(tempDir());
    expect(cache.endOffsetFor(0, 10)).toEqual({ epoch: -1, endOffset: -1 });
    cache.assign(1, 0);
    cache.assign(3, 100);
    cache.assign(4, 250);
    expect(cache.assign(2, 300)).toBe(false); // epochs only rise
    expect(cache.endOffsetFor(4, 400)).toEqual({ epoch: 4, endOffset: 400 });
    expect(cache.endOffsetFor(3, 400)).toEqual({ epoch: 3, endOffset: 250 });
    // Epoch 2 never led here: the largest epoch below it is 1, which ended where 3 began.
    expect(cache.endOffsetFor(2, 400)).toEqual({ epoch: 1, endOffset: 100 });
    // Older than anything held: that epoch, ending where the first known begins.
    expect(cache.endOffsetFor(0, 400)).toEqual({ epoch: 0, endOffset: 0 });
    // Newer than anything held: undefined.
    expect(cache.endOffsetFor(9, 400)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.epochAt(99)).toBe(1);
    expect(cache.epochAt(100)).toBe(3);
  });

  it('truncates from the end and from the start, persisting each change', () => {
    const dir = tempDir();
    const { cache } = LeaderEpochCache.open(dir);
    cache.assign(1, 0);
    cache.assign(3, 100);
    cache.assign(4, 250);
    cache.truncateFromEnd(250);
    expect(cache.list()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 100 }]);
    cache.truncateFromStart(150);
    expect(cache.list()).toEqual([{ epoch: 3, startOffset: 150 }]);
    expect(LeaderEpochCache.open(dir).cache.list()).toEqual([{ epoch: 3, startOffset: 150 }]);
    // Assigning an epoch at an offset below existing entries replaces them (they are gone).
    cache.assign(5, 120);
    expect(cache.list()).toEqual([{ epoch: 5, startOffset: 120 }]);
  });
});

describe('PartitionLog leader epochs', () => {
  it('stamps the leader epoch on appends and records where each epoch starts', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    await fill(log, 4);
    log.becomeLeader(2);
    await fill(log, 3);
    log.becomeLeader(5);
    await fill(log, 2);
    expect(log.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 12 }, { epoch: 5, startOffset: 21 }]);
    expect(epochsOf(log)).toEqual([...Array(12).fill(0), ...Array(9).fill(2), ...Array(6).fill(5)]);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 21 });
    expect(() => log.becomeLeader(4)).toThrowError(expect.objectContaining({ code: Errors.FENCED_LEADER_EPOCH.code }));
    await log.close();
    const again = await PartitionLog.open(dir, { config: SMALL });
    expect(again.epochEntries()).toEqual(log.epochEntries());
    await again.close();
  });

  it('rebuilds a missing or damaged checkpoint from the batches', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    await fill(log, 30);
    log.becomeLeader(7);
    await fill(log, 30);
    const expected = log.epochEntries();
    await log.close();
    for (const damage of [() => rmSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE)), () => writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT_FILE), '0\n9\n')]) {
      damage();
      const reopened = await PartitionLog.open(dir, { config: SMALL });
      expect(reopened.epochEntries()).toEqual(expected);
      await reopened.close();
    }
  });

  it('drops entries past the log end on open (a truncation the file did not see)', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: SMALL });
    await fill(log, 5);
    await log.close();
    writeLeaderEpochCheckpoint(dir, [{ epoch: 0, startOffset: 0 }, { epoch: 4, startOffset: 15 }, { epoch: 6, startOffset: 900 }]);
    const reopened = await PartitionLog.open(dir, { config: SMALL });
    expect(reopened.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 4, startOffset: 15 }]);
    await reopened.close();
  });
});

describe('PartitionLog.writeReplicated', () => {
  it('appends a leader\'s batches as they are: offsets and epochs preserved, across rolls', async () => {
    const leader = await PartitionLog.open(tempDir(), { config: SMALL });
    await fill(leader, 20);
    leader.becomeLeader(3);
    await fill(leader, 40);
    const follower = await PartitionLog.open(tempDir(), { config: SMALL });
    for (let offset = 0; offset < leader.logEndOffset; ) {
      const r = leader.read(offset, 5000);
      follower.writeReplicated(r.records.slice());
      offset = r.nextOffset;
    }
    expect(follower.logEndOffset).toBe(leader.logEndOffset);
    expect(readBack(follower)).toEqual(range(0, leader.logEndOffset));
    expect(epochsOf(follower)).toEqual(epochsOf(leader));
    expect(follower.epochEntries()).toEqual(leader.epochEntries());
    expect(follower.segmentCount).toBeGreaterThan(1);
  });

  it('refuses gaps, overlaps, falling epochs and corrupt bytes, and keeps serving', async () => {
    const leader = await PartitionLog.open(tempDir(), { config: SMALL });
    await fill(leader, 3);
    const follower = await PartitionLog.open(tempDir(), { config: SMALL });
    const all = leader.read(0, 1 << 20).records.slice();
    const firstBatch = all.subarray(0, all.length / 3);
    const rest = all.subarray(all.length / 3);
    expect(() => follower.writeReplicated(rest)).toThrowError(expect.objectContaining({ code: Errors.OFFSET_OUT_OF_RANGE.code }));
    follower.writeReplicated(firstBatch);
    expect(() => follower.writeReplicated(firstBatch)).toThrowError(expect.objectContaining({ code: Errors.OFFSET_OUT_OF_RANGE.code }));
    const corrupt = rest.slice();
    corrupt[corrupt.length - 1] ^= 0xff;
    expect(() => follower.writeReplicated(corrupt)).toThrowError(expect.objectContaining({ code: Errors.INVALID_RECORD.code }));
    follower.becomeLeader(4);
    expect(() => follower.writeReplicated(rest)).toThrowError(expect.objectContaining({ code: Errors.INVALID_RECORD.code }));
    expect(follower.logEndOffset).toBe(3);
  });

  it('tracks idempotent producers, so a new leader answers a retry as a duplicate', async () => {
    const leader = await PartitionLog.open(tempDir(), { config: SMALL });
    const batch = (seq: number) => encodeRecordBatch({ producerId: 42, producerEpoch: 0, baseSequence: seq, records: [{ value: `v${seq}` }, { value: `w${seq}` }] });
    await leader.append(batch(0));
    await leader.append(batch(2));
    const follower = await PartitionLog.open(tempDir(), { config: SMALL });
    follower.writeReplicated(leader.read(0, 1 << 20).records.slice());
    follower.becomeLeader(1);
    const retry = follower.write(batch(2));
    expect(retry).toMatchObject({ duplicate: true, baseOffset: 2 });
    expect(() => follower.write(batch(6))).toThrowError(expect.objectContaining({ code: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code }));
    expect(follower.write(batch(4)).baseOffset).toBe(4);
  });
});

describe('truncation by epoch', () => {
  it('truncates a divergent tail to the leader\'s end of the follower\'s epoch, fixing producer state', async () => {
    // Old leader A wrote epochs 0 and 1; B took over at epoch 2 from offset 9 (A's records 9.. at
    // epoch 1 never reached B).
    const a = await PartitionLog.open(tempDir(), { config: SMALL });
    const b = await PartitionLog.open(tempDir(), { config: SMALL });
    await fill(a, 2);
    a.becomeLeader(1);
    await fill(a, 1);
    b.writeReplicated(a.read(0, 1 << 20).records.slice());
    const idem = encodeRecordBatch({ producerId: 7, producerEpoch: 0, baseSequence: 0, records: [{ value: 'lost' }] });
    a.write(idem);
    await fill(a, 2);
    b.becomeLeader(2);
    await fill(b, 3);
    expect(a.producerState(7)).toBeDefined();
    // A asks B where its latest epoch (1) ends; B says offset 9.
    const answer = b.endOffsetForEpoch(a.latestEpoch);
    expect(answer).toEqual({ epoch: 1, endOffset: 9 });
    a.truncateTo(Math.min(answer.endOffset, a.logEndOffset));
    expect(a.logEndOffset).toBe(9);
    expect(a.producerState(7)).toBeUndefined();
    expect(a.epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 6 }]);
    a.writeReplicated(b.read(9, 1 << 20).records.slice());
    expect(readBack(a)).toEqual(range(0, b.logEndOffset));
    expect(epochsOf(a)).toEqual(epochsOf(b));
    expect(a.epochEntries()).toEqual(b.epochEntries());
  });

  it('refuses a bad truncation offset with INVALID_REQUEST', async () => {
    const log = await PartitionLog.open(tempDir(), { config: SMALL });
    let caught: unknown;
    try {
      log.truncateTo(-3);
    } catch (error) {
      caught = error;
    }
    expect(isRillError(caught, Errors.INVALID_REQUEST)).toBe(true);
  });
});
