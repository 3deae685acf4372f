// The TypeScript client against real broker processes: round trips through the producer and the
// consumer, idempotent retries across a broker that is killed and restarted mid-stream, seeking by
// timestamp, and the errors a user meets (bad names, oversized values, no broker, a deleted topic).

import { afterEach, describe, expect, it } from 'vitest';
import { Errors } from '../../src/errors.js';
import { Rill, type Consumer, type KafkaMessage } from '../../src/client/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
const running: BrokerProcess[] = [];
const clients: Rill[] = [];

afterEach(async () => {
  for (const rill of clients.splice(0)) await rill.close().catch(() => undefined);
  for (const broker of running.splice(0)) if (broker.child.exitCode === null && broker.child.signalCode === null) await killBroker(broker);
});

async function broker(dataDir = tempDir(), flags: string[] = []): Promise<BrokerProcess> {
  const started = await startBroker(dataDir, ['--workers', '2', ...flags]);
  running.push(started);
  return started;
}

function client(port: number, config: Partial<ConstructorParameters<typeof Rill>[0]> = {}): Rill {
  const rill = new Rill({ brokers: [`127.0.0.1:${port}`], clientId: 'client-test', ...config });
  clients.push(rill);
  return rill;
}

/** Reads every partition of `topic` from the start until `count` messages have arrived. */
async function readAll(consumer: Consumer, topic: string, count: number): Promise<Map<number, KafkaMessage[]>> {
  consumer.assign([{ topic, offset: 'earliest' }]);
  const byPartition = new Map<number, KafkaMessage[]>();
  let seen = 0;
  const deadline = Date.now() + 30_000;
  for await (const batch of consumer) {
    const list = byPartition.get(batch.partition) ?? [];
    for (const m of batch.messages) list.push({ ...m, key: m.key && Buffer.from(m.key), value: m.value && Buffer.from(m.value) });
    byPartition.set(batch.partition, list);
    seen += batch.messages.length;
    if (seen >= count) break;
    if (Date.now() > deadline) throw new Error(`read ${seen} of ${count} messages before the deadline`);
  }
  return byPartition;
}

describe('client against a broker', () => {
  it('round-trips keyed messages with headers through the producer and the consumer, in order per partition', async () => {
    const { port } = await broker();
    const rill = client(port);
    const admin = rill.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 4 }] })).toBe(true);
    const producer = rill.producer({ lingerMs: 2 });
    await producer.connect();
    const total = 20_000;
    const sends = [];
    for (let i = 0; i < total; i += 500) {
      sends.push(
        producer.send({
          topic: 'orders',
          messages: Array.from({ length: 500 }, (_, j) => ({ key: `customer-${(i + j) % 37}`, value: `order-${i + j}`, headers: { seq: String(i + j) } })),
        }),
      );
    }
    const results = (await Promise.all(sends)).flat();
    expect(results.every((r) => r.errorCode === 0 && r.baseOffset >= 0)).toBe(true);

    const consumer = rill.consumer();
    await consumer.connect();
    const byPartition = await readAll(consumer, 'orders', total);
    await consumer.disconnect();
    let count = 0;
    const lastSeqOfKey = new Map<string, number>();
    for (const [partition, messages] of byPartition) {
      messages.forEach((m, i) => expect(m.offset).toBe(i)); // no gap, no duplicate
      for (const m of messages) {
        const key = m.key!.toString();
        const seq = Number(m.headers.seq!.toString());
        expect(m.value!.toString()).toBe(`order-${seq}`);
        // Kafka's default partitioner: one key, one partition; and the producer keeps send order.
        expect(lastSeqOfKey.get(key) ?? -1).toBeLessThan(seq);
        lastSeqOfKey.set(key, seq);
        count++;
      }
      expect(partition).toBeGreaterThanOrEqual(0);
    }
    expect(count).toBe(total);
    const offsets = await admin.fetchTopicOffsets('orders');
    expect(offsets.reduce((sum, o) => sum + o.high - o.low, 0)).toBe(total);
  });

  it('delivers with run({ eachMessage }) and stops cleanly', async () => {
    const { port } = await broker();
    const rill = client(port);
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 2 }] });
    const producer = rill.producer();
    await producer.connect();
    await producer.send({ topic: 'events', messages: Array.from({ length: 100 }, (_, i) => ({ value: `e${i}`, partition: i % 2 })) });
    const consumer = rill.consumer({ fromBeginning: true });
    await consumer.connect();
    consumer.assign([{ topic: 'events' }]);
    const seen: string[] = [];
    void consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(() => seen.length === 100, { what: '100 messages through eachMessage' });
    await consumer.stop();
    expect(new Set(seen).size).toBe(100);
  });

  it('reads every partition when the prefetch room holds one partition\'s fetch only (no starvation by a long-polling empty partition)', async () => {
    const { port } = await broker();
    const rill = client(port);
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'narrow', numPartitions: 4 }] });
    const producer = rill.producer();
    await producer.connect();
    // Partition 0 gets one message and then nothing: its fetches long-poll; the others must still be read.
    await producer.send({ topic: 'narrow', messages: [{ value: 'p0', partition: 0 }, ...[1, 2, 3].flatMap((p) => Array.from({ length: 50 }, (_, i) => ({ value: `p${p}-${i}`, partition: p })))] });
    const consumer = rill.consumer({ fromBeginning: true, maxPrefetchBytes: 64 * 1024, maxBytesPerPartition: 64 * 1024, maxBytes: 64 * 1024 });
    await consumer.connect();
    const read = await readAll(consumer, 'narrow', 151);
    expect([0, 1, 2, 3].map((p) => read.get(p)?.length ?? 0)).toEqual([1, 50, 50, 50]);
    await consumer.stop();
  });

  it('retries across a broker killed and restarted mid-stream: with idempotence, no duplicate, no gap, order kept', async () => {
    const dataDir = tempDir();
    const first = await broker(dataDir);
    const port = first.port;
    const rill = client(port, { retry: { retries: 60, initialRetryTimeMs: 50, maxRetryTimeMs: 500 }, requestTimeoutMs: 5_000, connectionTimeoutMs: 2_000 });
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 2 }] });
    const producer = rill.producer({ idempotent: true, lingerMs: 1, batchBytes: 4096 });
    await producer.connect();

    // Sends keep going while the broker dies: sequence-numbered messages, alternating partitions,
    // at most 20 sends outstanding.
    const total = 6_000;
    let restarted: BrokerProcess | null = null;
    let inFlightAtKill = 0;
    const outstanding = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i += 10) {
      const send = producer.send({ topic: 'ledger', messages: Array.from({ length: 10 }, (_, j) => ({ value: String(i + j), partition: ((i + j) / 10 | 0) % 2 })) });
      outstanding.add(send);
      void send.finally(() => outstanding.delete(send)).catch(() => undefined);
      if (outstanding.size >= 20) await Promise.race(outstanding);
      if (i === total / 2) {
        // SIGKILL: acknowledged batches are in the page cache; the restart recovers them and
        // rebuilds the producer state from the log, so a retried batch is recognised.
        inFlightAtKill = outstanding.size;
        await killBroker(first);
        restarted = await broker(dataDir, ['--port', String(port)]);
      }
    }
    await Promise.all(outstanding);
    expect(restarted).not.toBeNull();
    expect(inFlightAtKill).toBeGreaterThan(0); // the kill cut sends short: they were retried

    const consumer = rill.consumer();
    await consumer.connect();
    const byPartition = await readAll(consumer, 'ledger', total);
    await consumer.disconnect();
    for (const partition of [0, 1]) {
      const values = byPartition.get(partition)!.map((m) => Number(m.value!.toString()));
      const expected = Array.from({ length: total }, (_, n) => n).filter((n) => ((n / 10) | 0) % 2 === partition);
      expect(values).toEqual(expected);
    }
  });

  it('seeks by timestamp, from the consumer and from the admin', async () => {
    const { port } = await broker();
    const rill = client(port);
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ticks', numPartitions: 1 }] });
    const producer = rill.producer();
    await producer.connect();
    const t0 = Date.UTC(2026, 0, 1);
    await producer.send({ topic: 'ticks', messages: Array.from({ length: 10 }, (_, i) => ({ value: `tick-${i}`, timestamp: t0 + i * 1000 })) });
    expect(await admin.fetchTopicOffsetsByTimestamp('ticks', t0 + 5_500)).toEqual([{ partition: 0, offset: 6 }]);
    expect(await admin.fetchTopicOffsetsByTimestamp('ticks', t0 + 60_000)).toEqual([{ partition: 0, offset: 10 }]);

    const consumer = rill.consumer();
    await consumer.connect();
    consumer.assign([{ topic: 'ticks', partition: 0, offset: 'earliest' }]);
    await consumer.seekToTimestamp({ topic: 'ticks', partition: 0, timestamp: t0 + 7_000 });
    expect(consumer.position({ topic: 'ticks', partition: 0 })).toBe(7);
    const iterator = consumer[Symbol.asyncIterator]();
    const next = await iterator.next();
    const messages: KafkaMessage[] = next.done === true ? [] : next.value.messages;
    expect(messages[0]).toMatchObject({ offset: 7, timestamp: t0 + 7_000 });
    expect(messages.map((m) => m.value!.toString())).toEqual(['tick-7', 'tick-8', 'tick-9']);
    await consumer.disconnect();
  });

  it('refuses bad names and oversized values with the shared codes, and the broker keeps serving', async () => {
    const { port } = await broker();
    const rill = client(port);
    const admin = rill.admin();
    await admin.connect();
    await expect(admin.createTopics({ topics: [{ topic: 'no/slashes' }] })).rejects.toMatchObject({ code: Errors.INVALID_TOPIC_EXCEPTION.code, retriable: false });
    await admin.createTopics({ topics: [{ topic: 'small', configs: { 'max.message.bytes': '10000' } }] });
    const producer = rill.producer({ lingerMs: 0 });
    await producer.connect();
    await expect(producer.send({ topic: 'bad name', messages: [{ value: 'x' }] })).rejects.toMatchObject({ code: Errors.INVALID_TOPIC_EXCEPTION.code });
    await expect(producer.send({ topic: 'small', messages: [{ value: Buffer.alloc(20_000) }] })).rejects.toMatchObject({ code: Errors.MESSAGE_TOO_LARGE.code, retriable: false });
    const [ok] = await producer.send({ topic: 'small', messages: [{ value: 'fits' }] });
    expect(ok.baseOffset).toBe(0);
  });

  it('fails to connect within its deadline when no broker listens, naming the broker', async () => {
    const { port } = await broker();
    const [dead] = running.splice(0);
    await killBroker(dead);
    const rill = client(port, { connectionTimeoutMs: 500, retry: { retries: 2, initialRetryTimeMs: 20, maxRetryTimeMs: 50 } });
    const producer = rill.producer();
    await expect(producer.connect()).rejects.toMatchObject({ message: expect.stringContaining(`127.0.0.1:${port}`), retriable: true });
  });

  it('fails sends to a topic deleted under the producer with UNKNOWN_TOPIC_OR_PARTITION, not a hang', async () => {
    const { port } = await broker();
    const rill = client(port, { retry: { retries: 3, initialRetryTimeMs: 20, maxRetryTimeMs: 100 } });
    const admin = rill.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
    const producer = rill.producer({ lingerMs: 0 });
    await producer.connect();
    await producer.send({ topic: 'doomed', messages: [{ value: 'before' }] });
    await admin.deleteTopics({ topics: ['doomed'] });
    await expect(producer.send({ topic: 'doomed', messages: [{ value: 'after', partition: 1 }] })).rejects.toMatchObject({ code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
  });
});
