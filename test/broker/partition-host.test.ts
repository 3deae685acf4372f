import { describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionHost, EARLIEST, LATEST } from '../../src/broker/partition-host.js';
import { DEFAULT_LOG_CONFIG, decodeRecordBatches, encodeRecordBatch, type LogConfig } from '../../src/storage/index.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from '../../src/storage/leader-epoch-checkpoint.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf } from '../helpers/records.js';

const tempDir = tempDirs();
const config = (overrides: Partial<LogConfig> = {}): LogConfig => ({ ...DEFAULT_LOG_CONFIG, ...overrides });

async function hostWith(partitions: number, overrides: Partial<LogConfig> = {}) {
  const dir = tempDir();
  const host = new PartitionHost();
  for (let p = 0; p < partitions; p++) await host.open({ topic: 'orders', partition: p, dir: join(dir, 'orders', String(p)), config: config(overrides) });
  return { host, dir };
}

describe('PartitionHost', () => {
  it('produces to and fetches from each of its partitions independently', async () => {
    const { host } = await hostWith(3);
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 4; i++) {
        const result = await host.produce('orders', p, batchOf(i * 5, 5), 1);
        expect(result).toMatchObject({ baseOffset: i * 5, lastOffset: i * 5 + 4, logStartOffset: 0 });
      }
    }
    const slice = host.fetch('orders', 1, 7, 1 << 20);
    expect(slice).toMatchObject({ highWatermark: 20, logStartOffset: 0, nextOffset: 20 });
    expect(slice.file).toMatch(/orders\/1\/00000000000000000000\.log$/);
    expect(decodeRecordBatches(slice.records)[0].baseOffset).toBe(5);
    expect(host.stats().map((s) => [s.partition, s.logEndOffset])).toEqual([[0, 20], [1, 20], [2, 20]]);
    await host.closeAll();
    expect(host.size).toBe(0);
  });

  it('records leader epoch 0 when it opens a new partition, so that no first produce waits for that fsync', async () => {
    const { host, dir } = await hostWith(2);
    for (let p = 0; p < 2; p++) {
      const checkpoint = join(dir, 'orders', String(p), LEADER_EPOCH_CHECKPOINT_FILE);
      expect(existsSync(checkpoint)).toBe(true);
      expect(host.logOf('orders', p).epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
      const before = statSync(checkpoint).mtimeMs;
      await host.produce('orders', p, batchOf(0, 3), 1);
      expect(statSync(checkpoint).mtimeMs).toBe(before); // not rewritten by the append
    }
    // Reopened with data, the epoch stays where it began.
    await host.closeAll();
    await host.open({ topic: 'orders', partition: 0, dir: join(dir, 'orders', '0'), config: config() });
    expect(host.logOf('orders', 0).epochEntries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    await host.closeAll();
  });

  it('answers acks=0 with nothing but still reports a failed write', async () => {
    const { host } = await hostWith(1);
    expect(await host.produce('orders', 0, batchOf(0, 2), 0)).toBeNull();
    const bad = batchOf(2, 2);
    bad[30] ^= 1;
    await expect(host.produce('orders', 0, bad, 0)).rejects.toMatchObject({ type: 'INVALID_RECORD' });
    expect(host.stats()[0].logEndOffset).toBe(2);
    await host.closeAll();
  });

  it('waits for durability before acknowledging acks=1 in sync mode', async () => {
    const { host } = await hostWith(1, { flushMode: 'sync' });
    await host.produce('orders', 0, batchOf(0, 3), 1);
    expect(host.stats()[0].flushedOffset).toBe(3);
    await host.closeAll();
  });

  it('wakes a long-polling fetch when data arrives, and times out otherwise', async () => {
    const { host } = await hostWith(1);
    const started = Date.now();
    await host.waitForData('orders', 0, 0, 30); // nothing arrives: returns after the wait
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    let woken = false;
    const waiting = host.waitForData('orders', 0, 0, 60_000).then(() => (woken = true));
    expect(woken).toBe(false);
    await host.produce('orders', 0, batchOf(0, 1), 1);
    await waiting;
    expect(woken).toBe(true);
    await host.waitForData('orders', 0, 0, 60_000); // data already there: at once
    await host.closeAll();
  });

  it('ends every wait of a multi-partition long poll once one partition has data', async () => {
    const { host } = await hostWith(3);
    const wait = host.waitForAny([0, 1, 2].map((partition) => ({ topic: 'orders', partition, offset: 0 })), 60_000);
    expect(host.waiting).toBe(3);
    await host.produce('orders', 1, batchOf(0, 1), 1);
    await wait.done;
    expect(host.waiting).toBe(0);
    await host.closeAll();
  });

  it('ends a multi-partition long poll on end(), and at once when a partition already has data', async () => {
    const { host } = await hostWith(2);
    const wait = host.waitForAny([0, 1].map((partition) => ({ topic: 'orders', partition, offset: 0 })), 60_000);
    expect(host.waiting).toBe(2);
    wait.end();
    wait.end(); // idempotent
    await wait.done;
    expect(host.waiting).toBe(0);
    await host.produce('orders', 1, batchOf(0, 1), 1);
    await host.waitForAny([0, 1].map((partition) => ({ topic: 'orders', partition, offset: 0 })), 60_000).done;
    expect(host.waiting).toBe(0);
    expect(() => host.waitForAny([{ topic: 'nope', partition: 0, offset: 0 }], 1000)).toThrow(expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    await host.closeAll();
  });

  it('wakes long polls when the partition closes', async () => {
    const { host } = await hostWith(1);
    const waiting = host.waitForData('orders', 0, 0, 60_000);
    await host.close('orders', 0);
    await waiting;
  });

  it('lists earliest, latest and by-timestamp offsets', async () => {
    const { host } = await hostWith(1);
    await host.produce('orders', 0, encodeRecordBatch({ records: [{ value: 'a', timestamp: 1000 }, { value: 'b', timestamp: 2000 }] }), 1);
    expect(host.listOffset('orders', 0, EARLIEST)).toEqual({ offset: 0, timestamp: -1 });
    expect(host.listOffset('orders', 0, LATEST)).toEqual({ offset: 2, timestamp: -1 });
    expect(host.listOffset('orders', 0, 1500)).toEqual({ offset: 1, timestamp: 2000 });
    expect(host.listOffset('orders', 0, 5000)).toEqual({ offset: 2, timestamp: -1 });
    expect(() => host.listOffset('orders', 0, -7)).toThrow(expect.objectContaining({ type: 'INVALID_REQUEST' }));
    await host.closeAll();
  });

  it('refuses partitions it does not host with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { host } = await hostWith(1);
    await expect(host.produce('orders', 5, batchOf(0, 1), 1)).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(() => host.fetch('payments', 0, 0, 100)).toThrow(expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' }));
    await host.closeAll();
  });

  it('applies retention to every partition', async () => {
    const { host, dir } = await hostWith(2, { segmentBytes: 8192, retentionBytes: 8192, retentionMs: -1 });
    for (let i = 0; i < 120; i++) await host.produce('orders', i % 2, batchOf(Math.floor(i / 2) * 5, 5), 1);
    const results = host.retention();
    expect(results.map((r) => r.partition).sort()).toEqual([0, 1]);
    await host.closeAll();
    // What is left is intact and readable after a reopen.
    const again = new PartitionHost();
    await again.open({ topic: 'orders', partition: 0, dir: join(dir, 'orders', '0'), config: config() });
    const status = again.stats()[0];
    expect(status.logStartOffset).toBeGreaterThan(0);
    expect(status.logEndOffset).toBe(300);
    const first = decodeRecordBatches(again.fetch('orders', 0, status.logStartOffset, 1 << 20).records)[0];
    expect(first.baseOffset).toBe(status.logStartOffset);
    await again.closeAll();
  });
});
