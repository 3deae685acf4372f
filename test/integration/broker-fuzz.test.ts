// Random and mutated frames thrown at a running broker (fast-check), and a client that never
// reads its responses: afterwards a normal produce and fetch still work, and the broker's memory
// did not run away.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import { ApiKeys, encodeRequest, fetchRecordSets } from '../../src/protocol/index.js';
import { decodeRecordBatches } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf } from '../helpers/records.js';
import { TestClient } from '../helpers/protocol-client.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
let broker: BrokerProcess;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Writes bytes on a fresh connection and waits until the broker closes it or 300 ms pass. */
function throwAt(bytes: Uint8Array[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(broker.port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket.on('data', () => {});
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      for (const chunk of bytes) socket.write(chunk);
    });
  });
}

const validFrames: Uint8Array[] = [
  encodeRequest(ApiKeys.Hello, 0, 1, { clientId: 'fuzz', apis: [] }),
  encodeRequest(ApiKeys.Metadata, 0, 2, {}),
  encodeRequest(ApiKeys.Produce, 0, 3, { topic: 'fuzz', partition: 0, acks: 1, timeoutMs: 1000 }, batchOf(0, 3)),
  encodeRequest(ApiKeys.Fetch, 0, 4, { partitions: [{ topic: 'fuzz', partition: 1, offset: 0, maxBytes: 4096 }], maxWaitMs: 10, minBytes: 0, maxBytes: 4096 }),
  encodeRequest(ApiKeys.ListOffsets, 0, 5, { partitions: [{ topic: 'fuzz', partition: 0, timestamp: -1 }] }),
  encodeRequest(ApiKeys.CreateTopics, 0, 6, { topics: [{ name: 'fuzz-created', partitions: 1 }] }),
];

const mutated = fc
  .tuple(fc.constantFrom(...validFrames), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.option(fc.nat()))
  .map(([frame, edits, cut]) => {
    const copy = frame.slice();
    for (const [at, value] of edits) copy[at % copy.length] = value;
    return cut === null ? copy : copy.subarray(0, cut % (copy.length + 1));
  });

const frameAroundJunk = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1 << 16 }), fc.uint8Array({ maxLength: 512 })).map(([key, length, junk]) => {
  const frame = new Uint8Array(16 + junk.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, 12 + junk.length);
  view.setUint16(4, key);
  view.setUint32(12, length);
  frame.set(junk, 16);
  return frame;
});

const validWithArbitraryHeader = fc.tuple(fc.integer({ min: 0, max: 8 }), fc.anything()).map(([key, header]) => {
  try {
    return encodeRequest(key as never, 0, 9, header as never);
  } catch {
    return new Uint8Array(0);
  }
});

beforeAll(async () => {
  broker = await startBroker(tempDir(), ['--workers', '2']);
  const client = await TestClient.connect(broker.port);
  await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'fuzz', partitions: 2 }] });
  client.close();
});

afterAll(async () => {
  await killBroker(broker);
});

describe('broker under hostile input', () => {
  it('survives random, mutated and malformed frames, then serves normally with bounded memory', async () => {
    const before = rssBytes(broker.child.pid!);
    const inputs = fc.sample(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutated, frameAroundJunk, validWithArbitraryHeader), { numRuns: 400, seed: 42 });
    // Several connections at a time, each with a few of the inputs back to back.
    for (let i = 0; i < inputs.length; i += 16) {
      await Promise.all(Array.from({ length: 4 }, (_, k) => throwAt(inputs.slice(i + k * 4, i + k * 4 + 4))));
    }
    expect(broker.child.exitCode).toBeNull();

    const client = await TestClient.connect(broker.port);
    const produced = await client.request(ApiKeys.Produce, { topic: 'fuzz', partition: 1, acks: 1, timeoutMs: 5000 }, batchOf(0, 5));
    expect(produced.header).toMatchObject({ errorCode: 0 });
    const fetched = await client.request(ApiKeys.Fetch, { partitions: [{ topic: 'fuzz', partition: 1, offset: 0, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    if (fetched.kind !== 'response' || fetched.apiKey !== ApiKeys.Fetch) throw new Error('not a fetch response');
    const records = decodeRecordBatches(fetchRecordSets(fetched.header, fetched.body)[0]).flatMap((b) => b.records);
    expect(records.length).toBeGreaterThanOrEqual(5);
    client.close();
    // Memory: garbage from 400 bad connections is fine; a leak per frame is not.
    expect(rssBytes(broker.child.pid!) - before).toBeLessThan(96 * 1024 * 1024);
  });

  it('stops reading from a client that never reads its responses, and stays bounded', async () => {
    const before = rssBytes(broker.child.pid!);
    const fetch = encodeRequest(ApiKeys.Fetch, 0, 1, { partitions: [{ topic: 'fuzz', partition: 1, offset: 0, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    const greedy = connect(broker.port, '127.0.0.1');
    await new Promise<void>((resolve) => greedy.once('connect', () => resolve()));
    greedy.pause(); // never read a byte
    let written = 0;
    // 20,000 fetch requests (each asking for the partition's data) without reading an answer.
    for (let i = 0; i < 20_000; i++) {
      greedy.write(fetch);
      written += fetch.length;
    }
    // The broker keeps serving others meanwhile.
    const other = await TestClient.connect(broker.port);
    await waitFor(async () => (await other.request(ApiKeys.Hello, { clientId: 'other', apis: [] })).kind === 'response', { what: 'another client to be served' });
    other.close();
    expect(rssBytes(broker.child.pid!) - before).toBeLessThan(128 * 1024 * 1024);
    greedy.destroy();
    expect(written).toBeGreaterThan(0);
  });
});
