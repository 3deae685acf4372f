// A real broker process: produce and fetch across partitions and workers, long polls, restarts,
// SIGKILL with flush.mode=sync, and bad input that must not disturb other clients.

import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeys, encodeRequest, fetchRecordSets, type DecodedResponse } from '../../src/protocol/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf, text, valueFor } from '../helpers/records.js';
import { TestClient } from '../helpers/protocol-client.js';
import { killBroker, startBroker, stopBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
const running: BrokerProcess[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const broker of running.splice(0)) if (broker.child.exitCode === null && broker.child.signalCode === null) await killBroker(broker);
});

async function start(dataDir: string, flags: string[] = []): Promise<{ broker: BrokerProcess; client: TestClient }> {
  const broker = await startBroker(dataDir, ['--workers', '2', ...flags]);
  running.push(broker);
  const client = await TestClient.connect(broker.port);
  clients.push(client);
  return { broker, client };
}

type Header = Record<string, any>;
const header = (response: DecodedResponse): Header => response.header as Header;

async function fetchAll(client: TestClient, topic: string, partition: number, from = 0): Promise<number[]> {
  const offsets: number[] = [];
  let offset = from;
  for (;;) {
    const response = await client.request(ApiKeys.Fetch, { partitions: [{ topic, partition, offset, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    expect(response.kind).toBe('response');
    if (response.kind !== 'response' || response.apiKey !== ApiKeys.Fetch) throw new Error('not a fetch response');
    const [p] = response.header.partitions;
    expect(p.errorCode).toBe(0);
    const [records] = fetchRecordSets(response.header, response.body);
    if (records.length === 0) return offsets;
    for (const batch of decodeRecordBatches(records)) {
      for (const record of batch.records) {
        if (record.offset < offset) continue;
        expect(text(record.value)).toBe(valueFor(record.offset));
        offsets.push(record.offset);
      }
      offset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
}

describe('broker', () => {
  it('produces to and fetches from many partitions across workers, in order', async () => {
    const { client } = await start(tempDir());
    expect(header(await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders', partitions: 8 }] })).topics[0].errorCode).toBe(0);
    const produced = [];
    for (let round = 0; round < 10; round++) {
      for (let p = 0; p < 8; p++) produced.push(client.request(ApiKeys.Produce, { topic: 'orders', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(round * 7, 7)));
    }
    const answers = await Promise.all(produced);
    for (const answer of answers) expect(header(answer).errorCode).toBe(0);
    for (let p = 0; p < 8; p++) expect(await fetchAll(client, 'orders', p)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    const described = header(await client.request(ApiKeys.DescribeTopics, { topics: ['orders'] }));
    expect(described.topics[0].partitions.map((p: Header) => p.logEndOffset)).toEqual(new Array(8).fill(70));
  });

  it('wakes a long-polling fetch when data arrives', async () => {
    const { broker, client } = await start(tempDir());
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'events', partitions: 1 }] });
    const waiting = client.request(ApiKeys.Fetch, { partitions: [{ topic: 'events', partition: 0, offset: 0, maxBytes: 1 << 20 }], maxWaitMs: 30_000, minBytes: 1, maxBytes: 1 << 20 });
    const other = await TestClient.connect(broker.port);
    clients.push(other);
    expect(header(await other.request(ApiKeys.Produce, { topic: 'events', partition: 0, acks: 1, timeoutMs: 5000 }, batchOf(0, 3))).errorCode).toBe(0);
    const fetched = await waiting;
    expect(header(fetched).partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 3 });
  });

  it('answers a long poll over partitions of both workers as soon as one has data', async () => {
    const { broker, client } = await start(tempDir());
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'spread', partitions: 4 }] });
    // Partitions are spread over the two workers; minBytes 1 is met by one partition's data, so
    // the owners still waiting must be told to stop (the poll would otherwise last 60 s).
    const partitions = [0, 1, 2, 3].map((partition) => ({ topic: 'spread', partition, offset: 0, maxBytes: 1 << 20 }));
    for (const p of [0, 1]) {
      const waiting = client.request(ApiKeys.Fetch, { partitions, maxWaitMs: 60_000, minBytes: 1, maxBytes: 1 << 20 }, undefined, 15_000);
      const other = await TestClient.connect(broker.port);
      clients.push(other);
      expect(header(await other.request(ApiKeys.Produce, { topic: 'spread', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(0, 2))).errorCode).toBe(0);
      const fetched = header(await waiting);
      expect(fetched.partitions.map((f: Header) => f.highWatermark)).toEqual([0, 1, 2, 3].map((q) => (q <= p ? 2 : 0)));
      expect(fetched.partitions.map((f: Header) => f.bytes > 0)).toEqual([0, 1, 2, 3].map((q) => q === p));
      partitions[p].offset = 2;
    }
  });

  it('keeps a fetch over several workers within its maxBytes, leaving out whole partitions', async () => {
    const { client } = await start(tempDir());
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'wide', partitions: 4 }] });
    for (let p = 0; p < 4; p++) await client.request(ApiKeys.Produce, { topic: 'wide', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(0, 10, { size: 1000 }));
    const partitions = [0, 1, 2, 3].map((partition) => ({ topic: 'wide', partition, offset: 0, maxBytes: 1 << 20 }));
    const response = await client.request(ApiKeys.Fetch, { partitions, maxWaitMs: 0, minBytes: 0, maxBytes: 25_000 });
    const fetched = header(response).partitions as Header[];
    const sizes = fetched.map((f) => f.bytes);
    expect(sizes[0]).toBeGreaterThan(10_000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(25_000);
    expect(sizes.filter((b) => b === 0).length).toBeGreaterThan(0);
    expect(fetched.every((f) => f.errorCode === 0 && f.highWatermark === 10)).toBe(true);
  });

  it('keeps topics and data across a clean restart', async () => {
    const dir = tempDir();
    const first = await start(dir);
    await first.client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders', partitions: 3, configs: { 'retention.ms': '3600000' } }] });
    for (let p = 0; p < 3; p++) await first.client.request(ApiKeys.Produce, { topic: 'orders', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(0, 10));
    expect(await stopBroker(first.broker)).toEqual({ code: 0, signal: null });
    const second = await start(dir);
    const listed = header(await second.client.request(ApiKeys.ListTopics, {}));
    expect(listed.topics).toEqual([{ name: 'orders', partitions: 3, internal: false }]);
    for (let p = 0; p < 3; p++) expect(await fetchAll(second.client, 'orders', p)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const configs = header(await second.client.request(ApiKeys.DescribeTopics, { topics: ['orders'] })).topics[0].configs;
    expect(configs['retention.ms']).toBe('3600000');
  });

  it('loses nothing acknowledged when SIGKILLed with flush.mode=sync', async () => {
    const dir = tempDir();
    const first = await start(dir, ['--log-flush-mode', 'sync']);
    await first.client.request(ApiKeys.CreateTopics, { topics: [{ name: 'ledger', partitions: 4 }] });
    const acked = [0, 0, 0, 0];
    const writers = [0, 1, 2, 3].map(async (p) => {
      for (let i = 0; i < 25; i++) {
        const answer = header(await first.client.request(ApiKeys.Produce, { topic: 'ledger', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(i * 4, 4)));
        expect(answer.errorCode).toBe(0);
        acked[p] = answer.baseOffset + 4;
      }
    });
    await Promise.all(writers);
    await killBroker(first.broker);
    const second = await start(dir);
    for (let p = 0; p < 4; p++) {
      const offsets = await fetchAll(second.client, 'ledger', p);
      expect(offsets.length).toBeGreaterThanOrEqual(acked[p]);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    }
  });

  it('adds partitions (CreatePartitions), keeps them and all data across a SIGKILL, and refuses counts that do not grow', async () => {
    const dir = tempDir();
    const first = await start(dir, ['--log-flush-mode', 'sync']);
    await first.client.request(ApiKeys.CreateTopics, { topics: [{ name: 'grow', partitions: 2 }] });
    for (const p of [0, 1]) expect(header(await first.client.request(ApiKeys.Produce, { topic: 'grow', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(0, 5))).errorCode).toBe(0);
    const checked = header(await first.client.request(ApiKeys.CreatePartitions, { topics: [{ name: 'grow', count: 4 }], validateOnly: true }));
    expect(checked.topics).toEqual([{ name: 'grow', errorCode: 0, partitions: 4 }]);
    expect(header(await first.client.request(ApiKeys.Metadata, { topics: ['grow'] })).topics[0].partitions).toHaveLength(2);
    // One request: the good topic grows, each bad one gets its own code and message.
    const answer = header(
      await first.client.request(ApiKeys.CreatePartitions, {
        topics: [
          { name: 'grow', count: 4 },
          { name: 'missing', count: 3 },
          { name: '__consumer_offsets', count: 100 },
          { name: 'orders', count: 1 },
        ],
      }),
    );
    expect(answer.topics).toEqual([
      { name: 'grow', errorCode: 0, partitions: 4 },
      { name: 'missing', errorCode: 3, message: "topic 'missing' does not exist" },
      { name: '__consumer_offsets', errorCode: 42, message: expect.stringContaining("cannot add partitions to internal topic '__consumer_offsets'") },
      { name: 'orders', errorCode: 3, message: "topic 'orders' does not exist" },
    ]);
    const shrink = header(await first.client.request(ApiKeys.CreatePartitions, { topics: [{ name: 'grow', count: 3 }] })).topics[0];
    expect(shrink).toEqual({ name: 'grow', errorCode: 37, message: 'Topic currently has 4 partitions, which is higher than the requested 3' });
    const tooMany = header(await first.client.request(ApiKeys.CreatePartitions, { topics: [{ name: 'grow', count: 10_001 }] })).topics[0];
    expect(tooMany).toMatchObject({ errorCode: 37, message: expect.stringContaining('from 1 to 10000') });
    expect(await first.client.request(ApiKeys.CreatePartitions, { topics: [{ name: 'grow', count: 0 }] })).toMatchObject({ kind: 'error-response', errorCode: 42 });
    expect(header(await first.client.request(ApiKeys.Metadata, { topics: ['grow'] })).topics[0].partitions).toHaveLength(4);
    for (const p of [2, 3]) expect(header(await first.client.request(ApiKeys.Produce, { topic: 'grow', partition: p, acks: 1, timeoutMs: 5000 }, batchOf(0, 5))).errorCode).toBe(0);
    for (const p of [0, 1, 2, 3]) expect(await fetchAll(first.client, 'grow', p)).toEqual([0, 1, 2, 3, 4]);
    await killBroker(first.broker);
    const second = await start(dir);
    expect(header(await second.client.request(ApiKeys.ListTopics, {})).topics).toEqual([{ name: 'grow', partitions: 4, internal: false }]);
    for (const p of [0, 1, 2, 3]) expect(await fetchAll(second.client, 'grow', p)).toEqual([0, 1, 2, 3, 4]);
  });

  it('hands out producer ids and deduplicates retried batches, also after a SIGKILL', async () => {
    const dir = tempDir();
    const first = await start(dir, ['--log-flush-mode', 'sync']);
    await first.client.request(ApiKeys.CreateTopics, { topics: [{ name: 'payments', partitions: 1 }] });
    const init = header(await first.client.request(ApiKeys.InitProducerId, {}));
    expect(init).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const { producerId } = init;
    expect(header(await first.client.request(ApiKeys.InitProducerId, {}))).toMatchObject({ errorCode: 0, producerId: producerId + 1 });
    expect(header(await first.client.request(ApiKeys.InitProducerId, { producerId, producerEpoch: 0 }))).toMatchObject({ producerId, producerEpoch: 1 });
    const batch = (seq: number) => encodeRecordBatch({ producerId, producerEpoch: 1, baseSequence: seq, records: [0, 1].map((i) => ({ value: valueFor(seq + i) })) });
    const produce = async (client: TestClient, seq: number) =>
      header(await client.request(ApiKeys.Produce, { topic: 'payments', partition: 0, acks: 1, timeoutMs: 5000 }, batch(seq)));
    for (let seq = 0; seq < 10; seq += 2) expect(await produce(first.client, seq)).toMatchObject({ errorCode: 0, baseOffset: seq });
    expect(await produce(first.client, 8)).toMatchObject({ errorCode: 0, baseOffset: 8 });
    expect(await produce(first.client, 14)).toMatchObject({ errorCode: 45, baseOffset: -1, message: expect.stringMatching(/expected sequence 10, got 14/) });
    await killBroker(first.broker);

    const second = await start(dir);
    // The retry of the last acknowledged batch is recognised after recovery; nothing is doubled.
    expect(await produce(second.client, 8)).toMatchObject({ errorCode: 0, baseOffset: 8 });
    expect(await produce(second.client, 10)).toMatchObject({ errorCode: 0, baseOffset: 10 });
    expect(await fetchAll(second.client, 'payments', 0)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // Ids handed out before the crash are never handed out again.
    expect(header(await second.client.request(ApiKeys.InitProducerId, {})).producerId).toBeGreaterThan(producerId + 1);
    expect(header(await second.client.request(ApiKeys.InitProducerId, { producerId: 1e12, producerEpoch: 0 }))).toMatchObject({ errorCode: 42, producerId: -1 });
  });

  it('answers bad requests with clear errors and keeps serving other clients', async () => {
    const { broker, client } = await start(tempDir());
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders', partitions: 2 }] });
    const badName = await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'bad/name' }] });
    expect(badName).toMatchObject({ kind: 'error-response', errorCode: 17 });
    expect(header(await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders' }] })).topics[0].errorCode).toBe(36);
    expect(await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'zero', partitions: 0 }] })).toMatchObject({ kind: 'error-response', errorCode: 42 });
    const unknown = header(await client.request(ApiKeys.Produce, { topic: 'missing', partition: 0, acks: 1, timeoutMs: 5000 }, batchOf(0, 1)));
    expect(unknown.errorCode).toBe(3);
    const badPartition = header(await client.request(ApiKeys.Produce, { topic: 'orders', partition: 9, acks: 1, timeoutMs: 5000 }, batchOf(0, 1)));
    expect(badPartition.errorCode).toBe(3);
    const corrupt = batchOf(0, 2);
    corrupt[40] ^= 1;
    const refused = header(await client.request(ApiKeys.Produce, { topic: 'orders', partition: 0, acks: 1, timeoutMs: 5000 }, corrupt));
    expect(refused).toMatchObject({ errorCode: 87, message: expect.stringContaining('CRC') });
    const outOfRange = header(await client.request(ApiKeys.Fetch, { partitions: [{ topic: 'orders', partition: 0, offset: 50, maxBytes: 1000 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1000 }));
    expect(outOfRange.partitions[0].errorCode).toBe(1);

    // An unknown api: an error frame naming it, and the connection stays usable.
    const raw = await TestClient.connect(broker.port);
    clients.push(raw);
    const unknownApi = encodeRequest(ApiKeys.Hello, 0, 77, { clientId: 'x', apis: [] });
    unknownApi[5] = 200; // api key 200
    raw.writeRaw(unknownApi);
    expect((await raw.request(ApiKeys.Hello, { clientId: 'after', apis: [] })).kind).toBe('response');
    expect(raw.unmatched).toEqual([expect.objectContaining({ kind: 'error-response', correlationId: 77, errorCode: 35 })]);

    // An oversized frame: an error frame, then the connection is closed.
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 0x7fffffff);
    const closing = await TestClient.connect(broker.port);
    clients.push(closing);
    const closed = new Promise<void>((resolve) => closing.socket.once('close', () => resolve()));
    closing.writeRaw(huge);
    await closed;

    // Meanwhile the first client was never disturbed.
    expect(header(await client.request(ApiKeys.Produce, { topic: 'orders', partition: 1, acks: 1, timeoutMs: 5000 }, batchOf(0, 1))).errorCode).toBe(0);
  });
});
