import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { SlotPool } from '../../src/threads/slot-pool.js';
import {
  OwnerKind,
  decodeOwnerResult,
  encodeOwnerRequest,
  type FetchResultMeta,
  type ListOffsetsResultMeta,
  type ProduceResultMeta,
} from '../../src/broker/owner-messages.js';
import { DEFAULT_LOG_CONFIG, decodeRecordBatches } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf, text, valueFor } from '../helpers/records.js';

const tempDir = tempDirs();
const workerFile = fileURLToPath(new URL('../../src/broker/owner-worker.ts', import.meta.url));
let pool: SlotPool;
let dir: string;
let nextId = 1;

const pending = new Map<number, (meta: unknown) => void>();
let dispatching = false;

/** Routes responses to their requests by id, while any request is pending. */
async function dispatch(): Promise<void> {
  if (dispatching) return;
  dispatching = true;
  try {
    while (pending.size > 0) {
      // A pending Atomics.waitAsync does not keep the event loop alive; this short timer does.
      let timer: NodeJS.Timeout | undefined;
      const rings = [0, 1].map((slot) => pool.rings(slot)!);
      await Promise.race([...rings.map((r) => r.responses.waitForData()), new Promise((resolve) => (timer = setTimeout(resolve, 100)))]);
      clearTimeout(timer);
      for (const r of rings) {
        r.responses.drain((entry) => {
          const message = decodeOwnerResult<unknown>(entry);
          pending.get(message.requestId)?.(message.meta);
          pending.delete(message.requestId);
        });
      }
    }
  } finally {
    dispatching = false;
  }
}

/** Sends one request on a slot's ring and resolves with its response (20 s deadline). */
function call<T>(slot: number, kind: OwnerKind, meta: unknown, body?: Uint8Array): Promise<T> {
  const requestId = nextId++;
  const response = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no response to request ${requestId} within 20 s`)), 20_000);
    pending.set(requestId, (value) => {
      clearTimeout(timer);
      resolve(value as T);
    });
  });
  expect(pool.rings(slot)!.requests.tryWriteParts(encodeOwnerRequest(requestId, kind, meta, body))).toBe(true);
  void dispatch();
  return response;
}

beforeAll(async () => {
  dir = tempDir();
  pool = await SlotPool.start({ filename: workerFile, slots: 2, ringBytes: 1 << 20, execArgv: ['--import', 'tsx'] });
  for (const slot of [0, 1]) {
    await pool.run(slot, {
      op: 'open',
      partitions: [{ topic: 'orders', partition: slot, dir: join(dir, 'orders', String(slot)), config: DEFAULT_LOG_CONFIG }],
    });
  }
});

afterAll(async () => {
  for (const slot of [0, 1]) await pool.run(slot, { op: 'shutdown' });
  await pool.close();
});

describe('owner worker', () => {
  it('appends produced record sets and answers with their base offsets', async () => {
    for (let i = 0; i < 5; i++) {
      const result = await call<ProduceResultMeta>(1, OwnerKind.Produce, { topic: 'orders', partition: 1, acks: 1 }, batchOf(i * 10, 10));
      expect(result).toMatchObject({ errorCode: 0, baseOffset: i * 10, logStartOffset: 0 });
    }
    const stats = await pool.run<{ partition: number; logEndOffset: number }[]>(1, { op: 'stats' });
    expect(stats).toEqual([expect.objectContaining({ partition: 1, logEndOffset: 50 })]);
  });

  it('answers fetches with where the batches are, and those bytes are the records', async () => {
    const result = await call<FetchResultMeta>(1, OwnerKind.Fetch, {
      partitions: [{ topic: 'orders', partition: 1, offset: 20, maxBytes: 1 << 20 }],
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    const [p] = result.partitions;
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 50, logStartOffset: 0 });
    const bytes = readFileSync(p.file!).subarray(p.position, p.position + p.length);
    const offsets = decodeRecordBatches(bytes).flatMap((b) => b.records.map((r) => [r.offset, text(r.value)]));
    expect(offsets[0]).toEqual([20, valueFor(20)]);
    expect(offsets.length).toBe(30);
  });

  it('holds a long-poll fetch until data arrives', async () => {
    const fetching = call<FetchResultMeta>(0, OwnerKind.Fetch, {
      partitions: [{ topic: 'orders', partition: 0, offset: 0, maxBytes: 1 << 20 }],
      maxWaitMs: 30_000,
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    // The produce goes on the same rings; the fetch must not block it.
    const produced = await call<ProduceResultMeta>(0, OwnerKind.Produce, { topic: 'orders', partition: 0, acks: 1 }, batchOf(0, 3));
    expect(produced.baseOffset).toBe(0);
    const fetched = await fetching;
    expect(fetched.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 3 });
    expect(fetched.partitions[0].length).toBeGreaterThan(0);
  });

  it('lists offsets, and reports unknown partitions and bad records per request', async () => {
    const listed = await call<ListOffsetsResultMeta>(1, OwnerKind.ListOffsets, {
      partitions: [
        { topic: 'orders', partition: 1, timestamp: -2 },
        { topic: 'orders', partition: 1, timestamp: -1 },
        { topic: 'orders', partition: 9, timestamp: -1 },
      ],
    });
    expect(listed.partitions.map((p) => [p.errorCode, p.offset])).toEqual([
      [0, 0],
      [0, 50],
      [3, -1],
    ]);
    const bad = batchOf(50, 1);
    bad[40] ^= 1;
    const refused = await call<ProduceResultMeta>(1, OwnerKind.Produce, { topic: 'orders', partition: 1, acks: 1 }, bad);
    expect(refused).toMatchObject({ errorCode: 87, message: expect.stringContaining('CRC') });
    const unknown = await call<ProduceResultMeta>(1, OwnerKind.Produce, { topic: 'orders', partition: 0, acks: 1 }, batchOf(0, 1));
    expect(unknown.errorCode).toBe(3); // partition 0 lives on the other slot
  });
});
