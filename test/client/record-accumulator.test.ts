// Batching through the real producer against a fake broker: by size and by time (lingerMs),
// bounded memory (bufferMemory, maxBlockMs), bounded in-flight batches, partitioning, retries.

import { afterEach, describe, expect, it } from 'vitest';
import { Errors, RillError } from '../../src/errors.js';
import { Producer, type ProducerConfig } from '../../src/client/producer.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { BATCH_OVERHEAD, recordSize } from '../../src/client/producer-batch.js';
import { silentLogger } from '../../src/client/logger.js';
import { RillConnectionError } from '../../src/client/errors.js';
import { waitFor } from '../helpers/wait-for.js';
import { fakeCluster, type FakeConnection, type SentProduce } from './fake-cluster.js';

const producers: { producer: Producer; connection: FakeConnection }[] = [];
afterEach(async () => {
  // disconnect() waits for the batches in flight: answer what a failed test left unanswered.
  for (const { producer, connection } of producers.splice(0)) {
    const closing = producer.disconnect().catch(() => undefined);
    while (connection.pending().length > 0) {
      for (const p of connection.pending()) p.answer({ errorCode: Errors.REQUEST_TIMED_OUT.code });
      await tick();
    }
    await closing;
  }
});

/** A producer on a fake cluster; batches keep batchBytes unless the test sets maxBatchBytes. */
async function producerWith(config: ProducerConfig, topics: Record<string, number> = { t: 1 }, topicMaxBatchBytes?: number): Promise<{ producer: Producer; connection: FakeConnection }> {
  const { cluster, connection } = fakeCluster({ topics, maxBatchBytes: topicMaxBatchBytes });
  const fixed = config.batchBytes !== undefined && config.maxBatchBytes === undefined ? { maxBatchBytes: config.batchBytes } : {};
  const producer = new Producer(cluster, { ...fixed, ...config }, { retry: { retries: 3, initialRetryTimeMs: 1, maxRetryTimeMs: 5 }, requestTimeoutMs: 30_000, logger: silentLogger });
  await producer.connect();
  producers.push({ producer, connection });
  return { producer, connection };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const value = Buffer.alloc(100, 7);
const messages = (n: number, extra: object = {}) => Array.from({ length: n }, () => ({ value, ...extra }));
/** Records of a 100-byte keyless value that fit a batch of `batchBytes`. */
const perBatch = (batchBytes: number) => Math.floor((batchBytes - BATCH_OVERHEAD) / recordSize(1, 0, -1, 100, 1));

/** Answers every pending produce with consecutive offsets per partition. */
function answerAll(connection: FakeConnection, next = new Map<string, number>()): void {
  for (const p of connection.pending()) {
    const key = `${p.topic}/${p.partition}`;
    const base = next.get(key) ?? 0;
    next.set(key, base + p.batch.recordCount);
    p.answer({ baseOffset: base });
  }
}

describe('batching', () => {
  it('sends a batch as soon as it is full, and holds a partial one for lingerMs', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, lingerMs: 60_000 });
    const n = perBatch(1024);
    const sent = producer.send({ topic: 't', messages: messages(2 * n + 3, { partition: 0 }) });
    await waitFor(() => connection.produced.length === 2, { what: 'two full batches' });
    await tick();
    expect(connection.produced.map((p) => p.batch.recordCount)).toEqual([n, n]);
    const flushed = producer.flush();
    await waitFor(() => connection.produced.length === 3, { what: 'the partial batch, on flush' });
    expect(connection.produced[2].batch.recordCount).toBe(3);
    answerAll(connection);
    await flushed;
    const [result] = await sent;
    expect(result).toMatchObject({ topic: 't', partition: 0, errorCode: 0, baseOffset: 0 });
  });

  it('sends a partial batch once it has lingered lingerMs, not before', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 40 });
    const started = Date.now();
    const sent = producer.send({ topic: 't', messages: messages(3) });
    await tick();
    expect(connection.produced).toHaveLength(0);
    await waitFor(() => connection.produced.length === 1, { what: 'the lingered batch' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(38);
    answerAll(connection);
    await sent;
  });

  it('with lingerMs 0, batches everything sent in one turn of the event loop together', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 0 });
    const sends = [producer.send({ topic: 't', messages: messages(2) }), producer.send({ topic: 't', messages: messages(5) })];
    await waitFor(() => connection.produced.length === 1);
    expect(connection.produced[0].batch.recordCount).toBe(7);
    answerAll(connection);
    const [first, second] = await Promise.all(sends);
    expect(first[0].baseOffset).toBe(0);
    expect(second[0].baseOffset).toBe(2);
  });

  it('keeps at most maxInFlightRequests batches in flight per partition', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, lingerMs: 0, maxInFlightRequests: 2 });
    const sent = producer.send({ topic: 't', messages: messages(5 * perBatch(1024), { partition: 0 }) });
    await waitFor(() => connection.produced.length === 2);
    await tick();
    expect(connection.produced).toHaveLength(2);
    const next = new Map<string, number>();
    while (connection.produced.length < 5 || connection.pending().length > 0) {
      answerAll(connection, next);
      await tick();
      expect(connection.pending().length).toBeLessThanOrEqual(2);
    }
    await sent;
  });
});

describe('batch growth (batchBytes to maxBatchBytes)', () => {
  it('doubles the room of a partition whose batches fill up, up to maxBatchBytes, and goes back after a batch lingers out', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, maxBatchBytes: 4096, lingerMs: 40 }, { t: 1 }, 1 << 20);
    const total = perBatch(1024) + perBatch(2048) + 3 * perBatch(4096);
    const sent = producer.send({ topic: 't', messages: messages(total, { partition: 0 }) });
    await waitFor(() => connection.produced.length === 5, { what: 'five full batches' });
    // A batch's bytes never pass its room; each full one gives the next twice the room.
    expect(connection.produced.map((p) => p.batch.recordCount)).toEqual([perBatch(1024), perBatch(2048), perBatch(4096), perBatch(4096), perBatch(4096)]);
    const rooms = [1024, 2048, 4096, 4096, 4096];
    connection.produced.forEach((p, i) => expect(p.batch.batchLength + 12).toBeLessThanOrEqual(rooms[i]));
    answerAll(connection);
    await sent;
    // A partial batch lingers out: the partition is quiet, its next batches are batchBytes again.
    const quiet = producer.send({ topic: 't', messages: messages(3, { partition: 0 }) });
    await waitFor(() => connection.produced.length === 6, { what: 'the lingered batch' });
    expect(connection.produced[5].batch.recordCount).toBe(3);
    const next = new Map([['t/0', total]]);
    answerAll(connection, next);
    await quiet;
    const again = producer.send({ topic: 't', messages: messages(perBatch(1024) + 1, { partition: 0 }) });
    await waitFor(() => connection.produced.length === 7, { what: 'a full batch of the usual size' });
    expect(connection.produced[6].batch.recordCount).toBe(perBatch(1024));
    await waitFor(() => connection.produced.length === 8, { what: 'the last record, lingered' });
    answerAll(connection, next);
    await again;
  });

  it('opens a batch of the usual size when bufferMemory has no room for a grown one', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, maxBatchBytes: 4096, bufferMemory: 4096, lingerMs: 60_000 }, { t: 1 }, 1 << 20);
    // Two full batches: 1024 then 2048 bytes of room, 3072 of the 4096 in use; the third would want 4096.
    const sent = producer.send({ topic: 't', messages: messages(perBatch(1024) + perBatch(2048) + perBatch(1024), { partition: 0 }) });
    await waitFor(() => connection.produced.length === 2, { what: 'two full batches' });
    const flushed = producer.flush();
    await waitFor(() => connection.produced.length === 3, { what: 'the third batch, on flush' });
    expect(connection.produced[2].batch.recordCount).toBe(perBatch(1024)); // it fit a 1024-byte batch: nothing waited
    answerAll(connection);
    await flushed;
    await sent;
  });

  it('grows no batch past what the brokers take for the topic, and none at all when they do not say', async () => {
    const capped = await producerWith({ batchBytes: 1024, maxBatchBytes: 8192, lingerMs: 60_000 }, { t: 1 }, 2048);
    // One record more than four batches hold, so that the fourth is closed by it.
    const a = capped.producer.send({ topic: 't', messages: messages(perBatch(1024) + 3 * perBatch(2048) + 1, { partition: 0 }) });
    await waitFor(() => capped.connection.produced.length === 4, { what: 'four full batches' });
    expect(capped.connection.produced.map((p) => p.batch.recordCount)).toEqual([perBatch(1024), perBatch(2048), perBatch(2048), perBatch(2048)]);
    const flushedA = capped.producer.flush();
    await waitFor(() => capped.connection.produced.length === 5, { what: 'the last record, on flush' });
    answerAll(capped.connection);
    await flushedA;
    await a;
    const silent = await producerWith({ batchBytes: 1024, maxBatchBytes: 8192, lingerMs: 60_000 });
    const b = silent.producer.send({ topic: 't', messages: messages(3 * perBatch(1024) + 1, { partition: 0 }) });
    await waitFor(() => silent.connection.produced.length === 3, { what: 'three full batches' });
    expect(silent.connection.produced.map((p) => p.batch.recordCount)).toEqual([perBatch(1024), perBatch(1024), perBatch(1024)]);
    const flushedB = silent.producer.flush();
    await waitFor(() => silent.connection.produced.length === 4, { what: 'the last record, on flush' });
    answerAll(silent.connection);
    await flushedB;
    await b;
  });

  it('refuses maxBatchBytes below batchBytes or above bufferMemory', async () => {
    await expect(producerWith({ batchBytes: 4096, maxBatchBytes: 1024 })).rejects.toThrow(/maxBatchBytes must be an integer >= batchBytes \(4096\), got 1024/);
    await expect(producerWith({ batchBytes: 1024, maxBatchBytes: 8192, bufferMemory: 4096 })).rejects.toThrow(/maxBatchBytes \(8192\) must not exceed bufferMemory \(4096\)/);
  });
});

describe('bufferMemory', () => {
  it('makes send() wait for memory, and go on once batches are acknowledged', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, bufferMemory: 2048, lingerMs: 0, maxBlockMs: 60_000 });
    const n = perBatch(1024);
    const first = producer.send({ topic: 't', messages: messages(2 * n, { partition: 0 }) });
    const second = producer.send({ topic: 't', messages: messages(n, { partition: 0 }) });
    await waitFor(() => connection.produced.length === 2);
    await tick();
    expect(connection.produced).toHaveLength(2); // the third batch has no memory yet
    answerAll(connection);
    await first;
    await waitFor(() => connection.produced.length === 3, { what: 'the waiting send to go on' });
    answerAll(connection, new Map([['t/0', 2 * n]]));
    expect((await second)[0].baseOffset).toBe(2 * n);
  });

  it('rejects a send that waited maxBlockMs for memory, and only that one', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, bufferMemory: 2048, lingerMs: 0, maxBlockMs: 50 });
    const n = perBatch(1024);
    const held = producer.send({ topic: 't', messages: messages(2 * n, { partition: 0 }) });
    const blocked = producer.send({ topic: 't', messages: messages(1, { partition: 0 }) });
    await expect(blocked).rejects.toMatchObject({ code: Errors.REQUEST_TIMED_OUT.code, name: 'RillTimeoutError' });
    expect(connection.produced).toHaveLength(2);
    answerAll(connection);
    await held;
    const later = producer.send({ topic: 't', messages: messages(1, { partition: 0 }) });
    await waitFor(() => connection.pending().length === 1);
    answerAll(connection, new Map([['t/0', 2 * n]]));
    expect((await later)[0].baseOffset).toBe(2 * n);
  });
});

describe('partitioning', () => {
  it('puts keyed messages where murmur2 says, and reports one result per partition', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 0 }, { t: 6 });
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const sent = producer.send({ topic: 't', messages: keys.map((key) => ({ key, value: key })) });
    await waitFor(() => connection.produced.length > 0);
    await tick();
    for (const p of connection.produced) {
      for (const record of p.batch.records) expect(partitionForKey(Buffer.from(record.key!).toString(), 6)).toBe(p.partition);
    }
    answerAll(connection);
    const results = await sent;
    expect(new Set(results.map((r) => r.partition))).toEqual(new Set(keys.map((k) => partitionForKey(k, 6))));
    expect(results.every((r) => r.baseOffset === 0)).toBe(true);
  });

  it('sticks keyless messages to one partition per batch, moving on when a batch fills', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, lingerMs: 60_000 }, { t: 4 });
    const n = perBatch(1024);
    const sent = producer.send({ topic: 't', messages: Array.from({ length: 4 * n }, (_, i) => ({ value: String(i).padStart(100, '0') })) });
    await waitFor(() => connection.produced.length === 3);
    // In the order the batches were filled (a partition's batches may leave together).
    const firstValue = (p: SentProduce) => Number(Buffer.from(p.batch.records[0].value!).toString());
    const full = [...connection.produced].sort((a, b) => firstValue(a) - firstValue(b)).map((p) => [p.partition, p.batch.recordCount]);
    expect(full.every(([, count]) => count === n)).toBe(true);
    for (let i = 1; i < full.length; i++) expect(full[i][0]).not.toBe(full[i - 1][0]);
    const flushed = producer.flush();
    await waitFor(() => connection.produced.length === 4);
    answerAll(connection);
    await Promise.all([sent, flushed]);
  });

  it('uses a custom partitioner, and rejects a partition out of range', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 0, partitioner: ({ message }) => Number(message.value) }, { t: 3 });
    const sent = producer.send({ topic: 't', messages: [{ value: '2' }, { value: '1' }] });
    await waitFor(() => connection.produced.length === 2);
    expect(connection.produced.map((p) => p.partition).sort()).toEqual([1, 2]);
    answerAll(connection);
    await sent;
    await expect(producer.send({ topic: 't', messages: [{ value: '7' }] })).rejects.toMatchObject({ code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
  });
});

describe('failures', () => {
  it('fails a message too large for any Produce frame without holding up the others', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 0 });
    connection.brokerMaxFrameBytes = 4096;
    const sent = producer.send({ topic: 't', messages: [{ value: 'small' }, { value: Buffer.alloc(5000) }, { value: 'also small' }] });
    await waitFor(() => connection.produced.length === 1);
    expect(connection.produced[0].batch.records.map((r) => Buffer.from(r.value!).toString())).toEqual(['small', 'also small']);
    answerAll(connection);
    await expect(sent).rejects.toMatchObject({ code: Errors.MESSAGE_TOO_LARGE.code });
  });

  it('gives a record larger than batchBytes a batch of its own, so a refusal fails it alone', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, lingerMs: 0 });
    const small = producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }] });
    const big = producer.send({ topic: 't', messages: [{ value: Buffer.alloc(3000), partition: 0 }] });
    const after = producer.send({ topic: 't', messages: [{ value: 'b', partition: 0 }] });
    await waitFor(() => connection.produced.length === 3);
    expect(connection.produced.map((p) => p.batch.recordCount)).toEqual([1, 1, 1]);
    connection.produced[0].answer({ baseOffset: 0 });
    connection.produced[1].answer({ errorCode: Errors.MESSAGE_TOO_LARGE.code, message: 'too big' });
    connection.produced[2].answer({ baseOffset: 1 });
    await expect(small).resolves.toHaveLength(1);
    await expect(big).rejects.toMatchObject({ code: Errors.MESSAGE_TOO_LARGE.code, message: 'too big' });
    expect((await after)[0].baseOffset).toBe(1);
  });

  it('retries a retriable error, keeping the order of the partition', async () => {
    const { producer, connection } = await producerWith({ batchBytes: 1024, lingerMs: 0 });
    const n = perBatch(1024);
    const sent = producer.send({ topic: 't', messages: Array.from({ length: 3 * n }, (_, i) => ({ value: String(i).padStart(100, '0'), partition: 0 })) });
    await waitFor(() => connection.produced.length === 3);
    connection.produced[0].answer({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code });
    connection.produced[1].answer({ baseOffset: 0 });
    connection.produced[2].fail(new RillConnectionError('lost'));
    await waitFor(() => connection.produced.length === 5, { what: 'the two failed batches sent again' });
    expect(connection.produced[3].batch.records[0].value).toEqual(connection.produced[0].batch.records[0].value);
    expect(connection.produced[4].batch.records[0].value).toEqual(connection.produced[2].batch.records[0].value);
    connection.produced[3].answer({ baseOffset: n });
    connection.produced[4].answer({ baseOffset: 2 * n });
    expect((await sent)[0].baseOffset).toBe(0);
  });

  it('rejects once a retriable error has used up the retries, and at once for a non-retriable one', async () => {
    const { producer, connection } = await producerWith({ lingerMs: 0, retry: { retries: 2, initialRetryTimeMs: 1, maxRetryTimeMs: 2 } });
    const sent = producer.send({ topic: 't', messages: messages(1) });
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(() => connection.pending().length === 1);
      connection.pending()[0].answer({ errorCode: Errors.LEADER_NOT_AVAILABLE.code });
    }
    await expect(sent).rejects.toMatchObject({ code: Errors.LEADER_NOT_AVAILABLE.code });
    expect(connection.produced).toHaveLength(3);
    const refused = producer.send({ topic: 't', messages: messages(1) });
    await waitFor(() => connection.pending().length === 1);
    connection.pending()[0].answer({ errorCode: Errors.INVALID_RECORD.code });
    await expect(refused).rejects.toBeInstanceOf(RillError);
    expect(connection.produced).toHaveLength(4);
  });

  it('refuses sends before connect() and after disconnect(), and bad topic names', async () => {
    const { cluster } = fakeCluster();
    const idle = new Producer(cluster, {}, { retry: {}, requestTimeoutMs: 1000, logger: silentLogger });
    await expect(idle.send({ topic: 't', messages: messages(1) })).rejects.toMatchObject({ code: Errors.CLIENT_DISCONNECTED.code });
    const { producer } = await producerWith({});
    await expect(producer.send({ topic: 'bad name!', messages: messages(1) })).rejects.toMatchObject({ code: Errors.INVALID_TOPIC_EXCEPTION.code });
    await expect(producer.send({ topic: 'missing', messages: messages(1) })).rejects.toMatchObject({ code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    await producer.disconnect();
    await expect(producer.send({ topic: 't', messages: messages(1) })).rejects.toMatchObject({ code: Errors.CLIENT_DISCONNECTED.code });
  });

  it('acks 0 resolves once written, with offsets -1', async () => {
    const { producer, connection } = await producerWith({ acks: 0, lingerMs: 0 });
    const [result] = await producer.send({ topic: 't', messages: messages(2) });
    expect(result).toMatchObject({ baseOffset: -1, partition: 0 });
    expect(connection.produced[0].acks).toBe(0);
  });
});
