// Log compaction (log-cleaner.ts): the latest record per key survives with its offset, tombstones
// go after delete.retention.ms, offsets are never renumbered (fetches see gaps), the idempotent
// producer state still rebuilds from a compacted log, the key map is bounded, and a directory left
// by a crash in the middle of a swap is put right on open.

import { describe, expect, it } from 'vitest';
import { cpSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog, decodeRecordBatches, encodeRecordBatch, isCleanSkip, logConfigFromProperties, type CleanResult, type LogConfig } from '../../src/storage/index.js';
import { Errors, RillError } from '../../src/errors.js';
import { ENTRY_BYTES } from '../../src/storage/offset-map.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { text } from '../helpers/records.js';

const tempDir = tempDirs('rill-cleaner-');
const COMPACT: Partial<LogConfig> = { segmentBytes: 8 * 1024, indexIntervalBytes: 512, cleanupPolicy: 'compact' };
const DAY = 24 * 60 * 60 * 1000;

interface Seen {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Every record from the log start to the log end, reading from each next offset as a consumer does. */
function readAll(log: PartitionLog, from = log.logStartOffset): Seen[] {
  const seen: Seen[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const result = log.read(offset, 4096);
    if (result.records.length === 0) break;
    for (const batch of decodeRecordBatches(result.records)) {
      for (const r of batch.records) if (r.offset >= offset) seen.push({ offset: r.offset, key: text(r.key), value: text(r.value) });
    }
    expect(result.nextOffset).toBeGreaterThan(offset);
    offset = result.nextOffset;
  }
  return seen;
}

/** Writes `rounds` rounds of keys key-0..key-(keys-1), value `${key}@${round}`; returns the offset of each key's last write. */
async function writeRounds(log: PartitionLog, keys: number, rounds: number, timestamp?: number): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const records = Array.from({ length: keys }, (_, k) => ({ key: `key-${k}`, value: `key-${k}@${round}`, timestamp }));
    const result = await log.append(encodeRecordBatch({ records }));
    for (let k = 0; k < keys; k++) last.set(`key-${k}`, result.baseOffset + k);
  }
  return last;
}

/** Rolls so that everything written so far is sealed, and makes it durable and checkpointed. */
async function sealAll(log: PartitionLog): Promise<void> {
  log.roll();
  await log.flush();
}

async function cleaned(log: PartitionLog, now?: number): Promise<CleanResult> {
  const outcome = await log.clean(now, { force: true });
  if (isCleanSkip(outcome)) throw new Error(`cleaning skipped: ${outcome.skipped}`);
  return outcome;
}

describe('log cleaner', () => {
  it('keeps only the latest record per key, at its original offset, and shrinks the log', async () => {
    const log = await PartitionLog.open(tempDir(), { config: COMPACT });
    const last = await writeRounds(log, 20, 60);
    await sealAll(log);
    const end = log.logEndOffset;
    const before = { size: log.size, segments: log.segmentCount };
    const result = await cleaned(log);
    expect(result.recordsRemoved).toBe(20 * 59);
    expect(result.cleanedTo).toBe(end);
    expect(log.size).toBeLessThan(before.size / 10);
    // Groups are formed by the segments' sizes before cleaning (as Kafka's): the next pass merges.
    await cleaned(log);
    expect(log.segmentCount).toBeLessThan(before.segments);
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(end);
    const seen = readAll(log);
    expect(seen).toHaveLength(20);
    for (const s of seen) {
      expect(s.offset).toBe(last.get(s.key!));
      expect(s.value).toBe(`${s.key}@59`);
    }
    // Appends go on at the same log end, and a reopened log reads the same.
    await writeRounds(log, 1, 1);
    expect(log.logEndOffset).toBe(end + 1);
    await log.close();
    const reopened = await PartitionLog.open(log.dir, { config: COMPACT });
    expect(readAll(reopened).map((s) => s.offset)).toEqual([...seen.map((s) => s.offset), end]);
    await reopened.close();
  });

  it('never touches the active segment, nor segments after the flush checkpoint', async () => {
    const log = await PartitionLog.open(tempDir(), { config: { ...COMPACT, segmentBytes: 1024 * 1024 } });
    await writeRounds(log, 5, 50);
    await log.flush();
    expect(isCleanSkip(await log.clean(undefined, { force: true }))).toBe(true);
    expect(readAll(log)).toHaveLength(250);
    await log.close();
  });

  it('lets appends go on during a pass, and a log closed mid-pass keeps its old segments and no leftovers', async () => {
    const log = await PartitionLog.open(tempDir(), { config: COMPACT });
    await writeRounds(log, 20, 200);
    await sealAll(log);
    const pass = log.clean(undefined, { force: true });
    const during = await writeRounds(log, 20, 5);
    await pass;
    const seen = readAll(log);
    for (const [key, offset] of during) expect(seen.find((s) => s.key === key && s.offset === offset)).toBeDefined();
    await writeRounds(log, 20, 200);
    await sealAll(log);
    const before = readAll(log);
    const interrupted = log.clean(undefined, { force: true });
    await log.close();
    expect(await interrupted).toMatchObject({ skipped: 'log-changed' });
    expect(readdirSync(log.dir).filter((n) => n.includes('.cleaned') || n.includes('.swap'))).toEqual([]);
    const reopened = await PartitionLog.open(log.dir, { config: COMPACT });
    expect(readAll(reopened)).toEqual(before);
    await reopened.close();
  });

  it('serves reads from any offset across the gaps it leaves, without renumbering', async () => {
    const log = await PartitionLog.open(tempDir(), { config: COMPACT });
    await writeRounds(log, 7, 40);
    await sealAll(log);
    await cleaned(log);
    const kept = readAll(log).map((s) => s.offset);
    for (let offset = 0; offset < log.logEndOffset; offset += 13) {
      const seen = readAll(log, offset).map((s) => s.offset);
      expect(seen).toEqual(kept.filter((o) => o >= offset));
    }
    await log.close();
  });

  it('keeps a tombstone for delete.retention.ms, then removes it', async () => {
    const log = await PartitionLog.open(tempDir(), { config: COMPACT });
    const t0 = 1_000_000;
    await log.append(encodeRecordBatch({ records: [{ key: 'a', value: 'a1', timestamp: t0 }, { key: 'b', value: 'b1', timestamp: t0 }] }));
    await log.append(encodeRecordBatch({ records: [{ key: 'a', value: null, timestamp: t0 }] }));
    await writeRounds(log, 3, 30, t0);
    await sealAll(log);
    await cleaned(log, t0 + 1000);
    const early = readAll(log).filter((s) => s.key === 'a' || s.key === 'b');
    expect(early).toEqual([
      { offset: 1, key: 'b', value: 'b1' },
      { offset: 2, key: 'a', value: null },
    ]);
    const late = await cleaned(log, t0 + DAY + 1);
    expect(late.tombstonesRemoved).toBe(1);
    expect(readAll(log).filter((s) => s.key === 'a' || s.key === 'b')).toEqual([{ offset: 1, key: 'b', value: 'b1' }]);
    await log.close();
  });

  it('keeps the idempotent producer state: it rebuilds from the compacted log and sequences go on', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: COMPACT });
    let sequence = 0;
    for (let i = 0; i < 40; i++) {
      await log.append(encodeRecordBatch({ producerId: 7, producerEpoch: 2, baseSequence: sequence, records: [{ key: 'same', value: `v${i}` }, { key: 'same', value: `w${i}` }] }));
      sequence += 2;
    }
    const before = log.producerState(7);
    await sealAll(log);
    await cleaned(log);
    expect(readAll(log).map((s) => s.value)).toEqual(['w39']);
    await log.close();
    // Without snapshots the state must come from the batch headers the cleaner kept.
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.snapshot'))) rmSync(join(dir, name));
    const reopened = await PartitionLog.open(dir, { config: COMPACT });
    expect(reopened.producerState(7)).toEqual(before);
    const next = await reopened.append(encodeRecordBatch({ producerId: 7, producerEpoch: 2, baseSequence: sequence, records: [{ key: 'same', value: 'next' }] }));
    expect(next.duplicate).toBeUndefined();
    await expect(reopened.append(encodeRecordBatch({ producerId: 7, producerEpoch: 2, baseSequence: sequence + 5, records: [{ key: 'same', value: 'gap' }] }))).rejects.toMatchObject({
      code: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code,
    });
    await reopened.close();
  });

  it('bounds its key map: a full map cleans part of the log, later passes finish it', async () => {
    const bufferBytes = 64 * 1024;
    const log = await PartitionLog.open(tempDir(), { config: { ...COMPACT, cleanerDedupeBufferBytes: bufferBytes } });
    const keys = Math.ceil((Math.floor(bufferBytes / ENTRY_BYTES) * 3) / 50) * 50;
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < keys; k += 50) {
        await log.append(encodeRecordBatch({ records: Array.from({ length: 50 }, (_, i) => ({ key: `key-${k + i}`, value: `${round}` })) }));
      }
    }
    await sealAll(log);
    const end = log.logEndOffset;
    const first = await cleaned(log);
    expect(first.mapFull).toBe(true);
    expect(first.mappedKeys).toBeLessThanOrEqual(bufferBytes / ENTRY_BYTES);
    expect(first.cleanedTo).toBeLessThan(end);
    let passes = 1;
    for (let to = first.cleanedTo; to < end; passes++) to = (await cleaned(log)).cleanedTo;
    expect(passes).toBeGreaterThan(2);
    await cleaned(log);
    const seen = readAll(log);
    expect(seen).toHaveLength(keys);
    expect(new Set(seen.map((s) => s.value))).toEqual(new Set(['1']));
    await log.close();
  });

  it('respects min.cleanable.dirty.ratio unless forced, and does nothing under cleanup.policy=delete', async () => {
    const log = await PartitionLog.open(tempDir(), { config: { ...COMPACT, minCleanableDirtyRatio: 0.9 } });
    await writeRounds(log, 10, 40);
    await sealAll(log);
    await cleaned(log);
    await writeRounds(log, 10, 2);
    await sealAll(log);
    const outcome = await log.clean();
    expect(outcome).toMatchObject({ skipped: 'below-dirty-ratio' });
    await log.close();
    const plain = await PartitionLog.open(tempDir(), { config: { segmentBytes: 8 * 1024 } });
    await writeRounds(plain, 10, 40);
    await sealAll(plain);
    expect(await plain.clean(undefined, { force: true })).toMatchObject({ skipped: 'nothing-cleanable' });
    expect(readAll(plain)).toHaveLength(400);
    await plain.close();
  });

  it('puts a directory right after a crash: a .cleaned leftover is dropped, a committed .swap completed', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir, { config: COMPACT });
    await writeRounds(log, 10, 40);
    await sealAll(log);
    const original = readAll(log);
    await log.close();
    const saved = tempDir();
    cpSync(dir, saved, { recursive: true });

    // Crash while writing: an uncommitted cleaned file next to the untouched old segments.
    writeFileSync(join(dir, '00000000000000000000.log.cleaned'), Buffer.alloc(100, 7));
    let reopened = await PartitionLog.open(dir, { config: COMPACT });
    expect(readdirSync(dir).some((n) => n.endsWith('.cleaned'))).toBe(false);
    expect(readAll(reopened)).toEqual(original);
    const result = await cleaned(reopened);
    const compacted = readAll(reopened);
    await reopened.close();

    // Crash after the commit point of the first group: its cleaned segment as a .swap, every old
    // segment still there. The open must finish that swap and leave the other groups as they were.
    expect(result.segmentsWritten).toBeGreaterThan(0);
    const bases = readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    const end = Number(bases[1].slice(0, 20));
    const swapName = `00000000000000000000-${String(end).padStart(20, '0')}.log.swap`;
    renameSync(join(dir, bases[0]), join(saved, swapName));
    rmSync(dir, { recursive: true });
    cpSync(saved, dir, { recursive: true });
    reopened = await PartitionLog.open(dir, { config: COMPACT });
    expect(readdirSync(dir).some((n) => n.endsWith('.swap'))).toBe(false);
    expect(readAll(reopened)).toEqual([...compacted.filter((s) => s.offset < end), ...original.filter((s) => s.offset >= end)]);
    await reopened.close();
  });
});

describe('cleanup.policy and friends', () => {
  it('parses Kafka spellings and refuses anything else with INVALID_CONFIG', () => {
    expect(logConfigFromProperties({ 'cleanup.policy': 'compact' }).cleanupPolicy).toBe('compact');
    expect(logConfigFromProperties({ 'cleanup.policy': 'delete, compact' }).cleanupPolicy).toBe('compact,delete');
    expect(logConfigFromProperties({ 'min.cleanable.dirty.ratio': '0.25' }).minCleanableDirtyRatio).toBe(0.25);
    expect(logConfigFromProperties({ 'delete.retention.ms': '1000' }).deleteRetentionMs).toBe(1000);
    for (const bad of [{ 'cleanup.policy': 'compress' } as Record<string, string>, { 'cleanup.policy': 'compact,compact' }, { 'min.cleanable.dirty.ratio': '1.5' }, { 'min.cleanable.dirty.ratio': 'half' }]) {
      expect(() => logConfigFromProperties(bad)).toThrow(RillError);
      try {
        logConfigFromProperties(bad);
      } catch (error) {
        expect((error as RillError).code).toBe(Errors.INVALID_CONFIG.code);
      }
    }
  });
});
