// The idempotent producer, client side: classifyFailure's decisions, per-partition sequences and
// epoch bumps (idempotence.ts), and the same rules end to end through a real Producer over the
// fake cluster (sender.ts, producer.ts): stamping, the in-flight cap, retries with the original
// sequences, duplicates, epoch bumps after UNKNOWN_PRODUCER_ID or a gap, fencing, and connect().

import { afterEach, describe, expect, it } from 'vitest';
import { Errors, RillError, type ErrorSpec } from '../../src/errors.js';
import { Producer, type ProducerConfig } from '../../src/client/producer.js';
import { BATCH_OVERHEAD, recordSize } from '../../src/client/producer-batch.js';
import { silentLogger } from '../../src/client/logger.js';
import { RillConnectionError, RillProducerFencedError } from '../../src/client/errors.js';
import {
  MAX_IN_FLIGHT_IDEMPOTENT,
  MAX_PRODUCER_EPOCH,
  PartitionSequence,
  SEQUENCE_MODULUS,
  bumpRequest,
  classifyFailure,
  nextSequence,
  sameIdentity,
  type FailureAction,
  type FailureFacts,
} from '../../src/client/idempotence.js';
import { waitFor } from '../helpers/wait-for.js';
import { fakeCluster, type FakeConnection, type SentProduce } from './fake-cluster.js';

// ---- classifyFailure ---------------------------------------------------------------------------

describe('classifyFailure', () => {
  const facts = (spec: ErrorSpec, idempotent: boolean, attempts: number, more: Partial<FailureFacts> = {}): FailureFacts => ({
    code: spec.code,
    retriable: spec.retriable,
    idempotent,
    attempts,
    retries: 3,
    olderBatchFailed: false,
    ...more,
  });
  const { NOT_LEADER_OR_FOLLOWER, NETWORK_EXCEPTION, REQUEST_TIMED_OUT, MESSAGE_TOO_LARGE, OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH } = Errors;

  const rows: [string, FailureFacts, FailureAction][] = [
    // Without idempotence: retriable errors retry while retries last; everything else fails alone.
    ['plain: retriable, first attempt', facts(NOT_LEADER_OR_FOLLOWER, false, 1), 'retry'],
    ['plain: retriable, last retry allowed', facts(NETWORK_EXCEPTION, false, 3), 'retry'],
    ['plain: retriable, retries used up', facts(NOT_LEADER_OR_FOLLOWER, false, 4), 'fail'],
    ['plain: retriable, retries 0', facts(REQUEST_TIMED_OUT, false, 1, { retries: 0 }), 'fail'],
    ['plain: not retriable', facts(MESSAGE_TOO_LARGE, false, 1), 'fail'],
    ['plain: OUT_OF_ORDER_SEQUENCE_NUMBER is just an error', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, false, 1, { olderBatchFailed: true }), 'fail'],
    ['plain: UNKNOWN_PRODUCER_ID is just an error', facts(UNKNOWN_PRODUCER_ID, false, 1), 'fail'],
    ['plain: INVALID_PRODUCER_EPOCH is not fatal', facts(INVALID_PRODUCER_EPOCH, false, 1), 'fail'],
    // With idempotence.
    ['idempotent: retriable, first attempt', facts(NOT_LEADER_OR_FOLLOWER, true, 1), 'retry'],
    ['idempotent: lost connection, last retry allowed', facts(NETWORK_EXCEPTION, true, 3), 'retry'],
    ['idempotent: retriable, retries used up', facts(NOT_LEADER_OR_FOLLOWER, true, 4), 'fail-and-reset'],
    ['idempotent: retriable, retries 0', facts(REQUEST_TIMED_OUT, true, 1, { retries: 0 }), 'fail-and-reset'],
    ['idempotent: not retriable (refused outright)', facts(MESSAGE_TOO_LARGE, true, 1), 'fail-and-reset'],
    ['idempotent: 45 behind an older failed batch', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, true, 1, { olderBatchFailed: true }), 'retry'],
    ['idempotent: 45 behind an older failed batch, even past the retries', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, true, 9, { olderBatchFailed: true }), 'retry'],
    ['idempotent: 45 on the oldest batch', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, true, 1), 'retry-after-reset'],
    ['idempotent: 45 on the oldest batch, last retry allowed', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, true, 3), 'retry-after-reset'],
    ['idempotent: 45 on the oldest batch, retries used up', facts(OUT_OF_ORDER_SEQUENCE_NUMBER, true, 4), 'fail-and-reset'],
    ['idempotent: 59', facts(UNKNOWN_PRODUCER_ID, true, 1), 'retry-after-reset'],
    ['idempotent: 59 behind an older failed batch', facts(UNKNOWN_PRODUCER_ID, true, 1, { olderBatchFailed: true }), 'retry-after-reset'],
    ['idempotent: 59, retries used up', facts(UNKNOWN_PRODUCER_ID, true, 4), 'fail-and-reset'],
    ['idempotent: 47 is fatal', facts(INVALID_PRODUCER_EPOCH, true, 1), 'fatal'],
    ['idempotent: 47 is fatal past the retries', facts(INVALID_PRODUCER_EPOCH, true, 9), 'fatal'],
    ['idempotent: 47 is fatal behind an older failed batch', facts(INVALID_PRODUCER_EPOCH, true, 1, { olderBatchFailed: true }), 'fatal'],
  ];

  it.each(rows)('%s', (_name, input, expected) => {
    expect(classifyFailure(input)).toBe(expected);
  });
});

// ---- sequences and epochs ----------------------------------------------------------------------

describe('nextSequence and PartitionSequence', () => {
  const MAX = SEQUENCE_MODULUS - 1; // 2^31 - 1

  it('has the modulus 2^31', () => {
    expect(SEQUENCE_MODULUS).toBe(2 ** 31);
    expect(MAX_IN_FLIGHT_IDEMPOTENT).toBe(5);
  });

  it.each([
    [0, 1, 1],
    [0, 10, 10],
    [7, 3, 10],
    [MAX - 5, 5, MAX],
    [MAX, 1, 0],
    [MAX - 2, 5, 2],
    [MAX, MAX, MAX - 1],
  ])('nextSequence(%i, %i) = %i', (sequence, count, expected) => {
    expect(nextSequence(sequence, count)).toBe(expected);
  });

  it('assigns baseSequences that advance by the record count', () => {
    const sequence = new PartitionSequence({ producerId: 1000, producerEpoch: 0 });
    expect([3, 5, 1, 7].map((count) => sequence.assign(count))).toEqual([0, 3, 8, 9]);
    expect(sequence.next).toBe(16);
  });

  it('wraps from 2^31 - 1 to 0', () => {
    const sequence = new PartitionSequence({ producerId: 1000, producerEpoch: 0 });
    sequence.next = MAX - 1;
    expect(sequence.assign(2)).toBe(MAX - 1); // records MAX - 1 and MAX
    expect(sequence.next).toBe(0);
    expect(sequence.assign(4)).toBe(0);
    sequence.next = MAX;
    expect(sequence.assign(3)).toBe(MAX); // records MAX, 0, 1
    expect(sequence.assign(1)).toBe(2);
  });

  it('adopt() restarts at 0 under the new identity and clears needsReset', () => {
    const sequence = new PartitionSequence({ producerId: 1000, producerEpoch: 0 });
    sequence.assign(10);
    sequence.needsReset = true;
    sequence.adopt({ producerId: 1000, producerEpoch: 1 });
    expect(sequence).toMatchObject({ identity: { producerId: 1000, producerEpoch: 1 }, next: 0, needsReset: false });
    expect(sequence.assign(4)).toBe(0);
    expect(sequence.assign(1)).toBe(4);
  });

  it('sameIdentity compares id and epoch', () => {
    expect(sameIdentity({ producerId: 1, producerEpoch: 2 }, { producerId: 1, producerEpoch: 2 })).toBe(true);
    expect(sameIdentity({ producerId: 1, producerEpoch: 2 }, { producerId: 1, producerEpoch: 3 })).toBe(false);
    expect(sameIdentity({ producerId: 1, producerEpoch: 2 }, { producerId: 2, producerEpoch: 2 })).toBe(false);
  });

  it.each([
    [{ producerId: 7, producerEpoch: 0 }, { producerId: 7, producerEpoch: 0 }],
    [{ producerId: 7, producerEpoch: 41 }, { producerId: 7, producerEpoch: 41 }],
    [{ producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH - 1 }, { producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH - 1 }],
    [{ producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH }, { producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH }],
    [{ producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH + 10 }, { producerId: 7, producerEpoch: MAX_PRODUCER_EPOCH }],
  ])('bumpRequest(%o) = %o (the epoch capped at MAX_PRODUCER_EPOCH)', (identity, expected) => {
    expect(bumpRequest(identity)).toEqual(expected);
    expect(MAX_PRODUCER_EPOCH).toBe(0x7fff);
  });
});

// ---- through a real producer -------------------------------------------------------------------

interface Open {
  producer: Producer;
  connection: FakeConnection;
}
const open: Open[] = [];

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await tick();
};

afterEach(async () => {
  // disconnect() flushes: answer whatever a failed test left in flight so that it can.
  for (const { producer, connection } of open.splice(0)) {
    let done = false;
    const closing = producer
      .disconnect()
      .catch(() => undefined)
      .finally(() => (done = true));
    const deadline = Date.now() + 2_000;
    while (!done && Date.now() < deadline) {
      for (const p of connection.pending()) p.answer({ baseOffset: 0 });
      await tick();
    }
    if (done) await closing;
  }
});

const RETRY = { retries: 3, initialRetryTimeMs: 1, maxRetryTimeMs: 5 };
const BATCH_BYTES = 1024;

function newProducer(config: ProducerConfig = {}, topics: Record<string, number> = { t: 1 }): Open & { producer: Producer } {
  const { cluster, connection } = fakeCluster({ topics });
  const producer = new Producer(cluster, { idempotent: true, batchBytes: BATCH_BYTES, maxBatchBytes: BATCH_BYTES, lingerMs: 0, ...config }, { retry: RETRY, requestTimeoutMs: 30_000, logger: silentLogger });
  const entry = { producer, connection };
  open.push(entry);
  return entry;
}

async function connected(config: ProducerConfig = {}, topics: Record<string, number> = { t: 1 }): Promise<Open> {
  const entry = newProducer(config, topics);
  await entry.producer.connect();
  return entry;
}

/** Records of a 100-byte keyless value that fill a batch of BATCH_BYTES. */
const N = Math.floor((BATCH_BYTES - BATCH_OVERHEAD) / recordSize(1, 0, -1, 100, 1));
/** `count` messages for `partition` with distinct 100-byte values. */
const messages = (label: string, count: number, partition = 0) => Array.from({ length: count }, (_, i) => ({ value: `${label}-${i}`.padStart(100, '.'), partition }));
const valuesOf = (p: SentProduce) => p.batch.records.map((r) => Buffer.from(r.value!).toString());
const stampOf = (p: SentProduce) => ({ producerId: p.batch.producerId, producerEpoch: p.batch.producerEpoch, baseSequence: p.batch.baseSequence });

describe('idempotent producer: connect', () => {
  it('asks InitProducerId once, however often connect() is called', async () => {
    const { producer, connection } = newProducer();
    expect(producer.producerIdentity).toEqual({ producerId: -1, producerEpoch: -1 });
    await Promise.all([producer.connect(), producer.connect()]);
    await producer.connect();
    expect(connection.initProducerIdRequests).toEqual([{}]);
    expect(producer.producerIdentity).toEqual({ producerId: 1000, producerEpoch: 0 });
  });

  it('a producer that is not idempotent asks for no producer id and stamps nothing', async () => {
    const { producer, connection } = await connected({ idempotent: false });
    expect(connection.initProducerIdRequests).toEqual([]);
    const sent = producer.send({ topic: 't', messages: messages('a', 2) });
    await waitFor(() => connection.produced.length === 1);
    expect(stampOf(connection.produced[0])).toEqual({ producerId: -1, producerEpoch: -1, baseSequence: -1 });
    connection.produced[0].answer({ baseOffset: 0 });
    await sent;
  });

  it('rejects connect() with the error when InitProducerId is refused, and can connect later', async () => {
    const { producer, connection } = newProducer();
    connection.initProducerIdError = Errors.INVALID_REQUEST.code;
    const failed = producer.connect();
    await expect(failed).rejects.toBeInstanceOf(RillError);
    await expect(failed).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code, message: expect.stringContaining('InitProducerId') });
    expect(connection.initProducerIdRequests).toHaveLength(1); // not retriable: asked once
    await expect(producer.send({ topic: 't', messages: messages('a', 1) })).rejects.toMatchObject({ code: Errors.CLIENT_DISCONNECTED.code });

    connection.initProducerIdError = null;
    await producer.connect();
    expect(producer.producerIdentity).toEqual({ producerId: 1000, producerEpoch: 0 });
    expect(connection.initProducerIdRequests).toHaveLength(2);
  });

  it('retries a retriable InitProducerId error, then rejects connect() with it', async () => {
    const { producer, connection } = newProducer();
    connection.initProducerIdError = Errors.STORAGE_ERROR.code;
    await expect(producer.connect()).rejects.toMatchObject({ code: Errors.STORAGE_ERROR.code, message: expect.stringContaining('InitProducerId') });
    expect(connection.initProducerIdRequests).toHaveLength(RETRY.retries + 1);
  });

  it('refuses acks 0: as config (INVALID_CONFIG) and per send (INVALID_REQUEST)', async () => {
    const { cluster } = fakeCluster();
    const build = () => new Producer(cluster, { idempotent: true, acks: 0 }, { retry: RETRY, requestTimeoutMs: 30_000, logger: silentLogger });
    expect(build).toThrow(RillError);
    expect(build).toThrow(expect.objectContaining({ code: Errors.INVALID_CONFIG.code }));

    const { producer, connection } = await connected();
    await expect(producer.send({ topic: 't', messages: messages('a', 1), acks: 0 })).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await expect(producer.sendBatch({ topicMessages: [{ topic: 't', messages: messages('b', 1) }], acks: 0 })).rejects.toMatchObject({ code: Errors.INVALID_REQUEST.code });
    await ticks(3);
    expect(connection.produced).toHaveLength(0);
  });
});

describe('idempotent producer: stamping', () => {
  it("stamps each partition's batches with consecutive baseSequences and the producer's id and epoch", async () => {
    const { producer, connection } = await connected({}, { t: 2 });
    const counts = [3, 5, 1, 7];
    const sends = [];
    for (const [i, count] of counts.entries()) {
      sends.push(producer.send({ topic: 't', messages: messages(`p0-${i}`, count) }));
      await waitFor(() => connection.produced.length === i + 1, { what: `batch ${i}` });
    }
    sends.push(producer.send({ topic: 't', messages: messages('p1', 4, 1) }));
    await waitFor(() => connection.produced.length === 5, { what: 'the batch of partition 1' });

    const p0 = connection.produced.filter((p) => p.partition === 0);
    expect(p0.map((p) => p.batch.recordCount)).toEqual(counts);
    expect(p0.map(stampOf)).toEqual([0, 3, 8, 9].map((baseSequence) => ({ producerId: 1000, producerEpoch: 0, baseSequence })));
    const p1 = connection.produced.filter((p) => p.partition === 1);
    expect(p1.map(stampOf)).toEqual([{ producerId: 1000, producerEpoch: 0, baseSequence: 0 }]);

    let offset = 0;
    for (const p of p0) {
      p.answer({ baseOffset: offset });
      offset += p.batch.recordCount;
    }
    p1[0].answer({ baseOffset: 0 });
    const results = await Promise.all(sends);
    expect(results.map((r) => r[0].baseOffset)).toEqual([0, 3, 8, 9, 0]);

    // The next batch goes on from where the partition left off.
    const next = producer.send({ topic: 't', messages: messages('p0-next', 2) });
    await waitFor(() => connection.produced.length === 6);
    expect(stampOf(connection.produced[5])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 16 });
    connection.produced[5].answer({ baseOffset: 16 });
    await next;
  });

  it('keeps at most 5 batches in flight per partition even when maxInFlightRequests is larger', async () => {
    const { producer, connection } = await connected({ maxInFlightRequests: 10 });
    const sent = producer.send({ topic: 't', messages: messages('a', 8 * N) });
    await waitFor(() => connection.produced.length === MAX_IN_FLIGHT_IDEMPOTENT);
    await ticks(5);
    expect(connection.pending()).toHaveLength(MAX_IN_FLIGHT_IDEMPOTENT);
    let offset = 0;
    while (connection.produced.length < 8 || connection.pending().length > 0) {
      const [oldest] = connection.pending();
      if (oldest !== undefined) {
        oldest.answer({ baseOffset: offset });
        offset += oldest.batch.recordCount;
      }
      await tick();
      expect(connection.pending().length).toBeLessThanOrEqual(MAX_IN_FLIGHT_IDEMPOTENT);
    }
    expect(connection.produced.map((p) => p.batch.baseSequence)).toEqual(Array.from({ length: 8 }, (_, i) => i * N));
    expect((await sent)[0].baseOffset).toBe(0);
  });
});

describe('producer: failures that hint the leader moved ask for fresh metadata', () => {
  // A leader cut off from the cluster answers REQUEST_TIMED_OUT (it can neither replicate nor shrink
  // its ISR) while the others elect a new one: retrying it without looking again would never end.
  it.each([
    [Errors.REQUEST_TIMED_OUT, true],
    [Errors.NOT_ENOUGH_REPLICAS, true],
    [Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND, true],
    [Errors.NOT_LEADER_OR_FOLLOWER, true],
    [Errors.OUT_OF_ORDER_SEQUENCE_NUMBER, false],
  ])('%s: refresh %s', async (spec, refreshes) => {
    const { producer, connection } = await connected();
    const sent = producer.send({ topic: 't', messages: messages('a', 1) });
    await waitFor(() => connection.pending().length === 1, { what: 'the batch in flight' });
    const before = connection.metadataRefreshes;
    connection.pending()[0].answer({ errorCode: spec.code });
    await waitFor(() => connection.pending().length === 1, { what: 'the retry' });
    expect(connection.metadataRefreshes > before).toBe(refreshes);
    connection.pending()[0].answer({ baseOffset: 0 });
    await sent;
  });
});

describe('idempotent producer: retries keep the original sequences', () => {
  const failures: [string, (p: SentProduce) => void][] = [
    ['NOT_LEADER_OR_FOLLOWER', (p) => p.answer({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code })],
    ['a lost connection (RillConnectionError)', (p) => p.fail(new RillConnectionError('connection lost'))],
  ];

  it.each(failures)('after %s of batch 1, batches 1-3 go again in order with their original stamps, once all came back', async (_name, failBatch) => {
    const { producer, connection } = await connected();
    const sent = producer.send({ topic: 't', messages: messages('a', 4 * N) });
    await waitFor(() => connection.produced.length === 4, { what: 'four batches in flight' });
    const first = connection.produced.slice(0, 4);
    expect(first.map((p) => p.batch.baseSequence)).toEqual([0, N, 2 * N, 3 * N]);

    first[0].answer({ baseOffset: 0 });
    failBatch(first[1]);
    await ticks(5);
    expect(connection.produced).toHaveLength(4); // batches 2 and 3 are still in flight: no retry yet

    // A send made meanwhile waits behind the retries.
    const later = producer.send({ topic: 't', messages: messages('later', 2) });
    first[2].answer({ errorCode: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code });
    await ticks(3);
    expect(connection.produced).toHaveLength(4);
    first[3].answer({ errorCode: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code });

    await waitFor(() => connection.produced.length === 8, { what: 'the three retries and the later batch' });
    const retried = connection.produced.slice(4, 7);
    expect(retried.map(stampOf)).toEqual(first.slice(1).map(stampOf));
    expect(retried.map(valuesOf)).toEqual(first.slice(1).map(valuesOf));
    expect(stampOf(connection.produced[7])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 4 * N });
    expect(valuesOf(connection.produced[7])).toEqual(messages('later', 2).map((m) => m.value));

    retried.forEach((p, i) => p.answer({ baseOffset: (i + 1) * N }));
    connection.produced[7].answer({ baseOffset: 4 * N });
    expect((await sent)[0].baseOffset).toBe(0);
    expect((await later)[0].baseOffset).toBe(4 * N);
    expect(connection.initProducerIdRequests).toHaveLength(1); // a plain retry bumps nothing
  });

  it('resolves each send once when a retried batch is answered as a duplicate (errorCode 0, original offset)', async () => {
    const { producer, connection } = await connected();
    let settled = 0;
    const count = <T>(promise: Promise<T>) =>
      promise.finally(() => {
        settled++;
      });
    const a = count(producer.send({ topic: 't', messages: messages('a', 2) }));
    const b = count(producer.send({ topic: 't', messages: messages('b', 3) }));
    await waitFor(() => connection.produced.length === 1);
    expect(connection.produced[0].batch.recordCount).toBe(5);
    // The broker wrote the batch at offset 40, but the answer was lost.
    connection.produced[0].fail(new RillConnectionError('connection lost'));
    await waitFor(() => connection.produced.length === 2, { what: 'the retry' });
    expect(stampOf(connection.produced[1])).toEqual(stampOf(connection.produced[0]));
    expect(stampOf(connection.produced[1])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 0 });
    expect(settled).toBe(0);
    connection.produced[1].answer({ errorCode: 0, baseOffset: 40 });
    expect((await a)[0].baseOffset).toBe(40);
    expect((await b)[0].baseOffset).toBe(42);
    await ticks(5);
    expect(settled).toBe(2);
    expect(connection.produced).toHaveLength(2);

    // The partition goes on after the duplicate's records.
    const c = producer.send({ topic: 't', messages: messages('c', 1) });
    await waitFor(() => connection.produced.length === 3);
    expect(stampOf(connection.produced[2])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 5 });
    connection.produced[2].answer({ baseOffset: 45 });
    await c;
  });
});

describe('idempotent producer: epoch bumps', () => {
  it.each([
    ['UNKNOWN_PRODUCER_ID', Errors.UNKNOWN_PRODUCER_ID],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', Errors.OUT_OF_ORDER_SEQUENCE_NUMBER],
  ])('%s on the oldest unacknowledged batch bumps the epoch and restarts the partition at 0, re-stamped in order', async (_name, spec) => {
    const { producer, connection } = await connected();
    const sent = producer.send({ topic: 't', messages: messages('a', 3 * N) });
    await waitFor(() => connection.produced.length === 3);
    const first = connection.produced.slice(0, 3);
    first[0].answer({ baseOffset: 0 });
    first[1].answer({ errorCode: spec.code });
    first[2].answer({ errorCode: spec.code });

    await waitFor(() => connection.produced.length === 5, { what: 'the re-stamped batches' });
    expect(connection.initProducerIdRequests).toEqual([{}, { producerId: 1000, producerEpoch: 0 }]);
    expect(producer.producerIdentity).toEqual({ producerId: 1000, producerEpoch: 1 });
    const again = connection.produced.slice(3);
    expect(again.map(stampOf)).toEqual([
      { producerId: 1000, producerEpoch: 1, baseSequence: 0 },
      { producerId: 1000, producerEpoch: 1, baseSequence: N },
    ]);
    expect(again.map(valuesOf)).toEqual(first.slice(1).map(valuesOf));
    again[0].answer({ baseOffset: N });
    again[1].answer({ baseOffset: 2 * N });
    expect((await sent)[0].baseOffset).toBe(0);

    const next = producer.send({ topic: 't', messages: messages('next', 1) });
    await waitFor(() => connection.produced.length === 6);
    expect(stampOf(connection.produced[5])).toEqual({ producerId: 1000, producerEpoch: 1, baseSequence: 2 * N });
    connection.produced[5].answer({ baseOffset: 3 * N });
    await next;
    expect(connection.initProducerIdRequests).toHaveLength(2);
  });

  it('another partition keeps its old epoch while it has a batch in flight, then restarts at 0 under the new one', async () => {
    const { producer, connection } = await connected({}, { t: 2 });
    const on0 = producer.send({ topic: 't', messages: messages('p0', 2, 0) });
    const on1 = producer.send({ topic: 't', messages: messages('p1', 3, 1) });
    await waitFor(() => connection.produced.length === 2);
    const [b0, b1] = [0, 1].map((partition) => connection.produced.find((p) => p.partition === partition)!);
    expect([stampOf(b0), stampOf(b1)]).toEqual([
      { producerId: 1000, producerEpoch: 0, baseSequence: 0 },
      { producerId: 1000, producerEpoch: 0, baseSequence: 0 },
    ]);

    // Partition 0 loses its producer state: the epoch is bumped, partition 0 restarts.
    b0.answer({ errorCode: Errors.UNKNOWN_PRODUCER_ID.code });
    await waitFor(() => connection.produced.length === 3, { what: 'partition 0 re-stamped' });
    expect(stampOf(connection.produced[2])).toEqual({ producerId: 1000, producerEpoch: 1, baseSequence: 0 });
    connection.produced[2].answer({ baseOffset: 0 });
    await on0;

    // Partition 1 still has a batch in flight under epoch 0: its next batch goes on under epoch 0.
    const more1 = producer.send({ topic: 't', messages: messages('p1-more', 2, 1) });
    await waitFor(() => connection.produced.length === 4);
    expect(connection.produced[3].partition).toBe(1);
    expect(stampOf(connection.produced[3])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 3 });
    b1.answer({ baseOffset: 0 });
    connection.produced[3].answer({ baseOffset: 3 });
    await Promise.all([on1, more1]);

    // With nothing in flight, partition 1 adopts the new epoch and restarts at 0, without another bump.
    const last1 = producer.send({ topic: 't', messages: messages('p1-last', 1, 1) });
    await waitFor(() => connection.produced.length === 5);
    expect(stampOf(connection.produced[4])).toEqual({ producerId: 1000, producerEpoch: 1, baseSequence: 0 });
    connection.produced[4].answer({ baseOffset: 5 });
    await last1;
    expect(connection.initProducerIdRequests).toHaveLength(2);
  });

  it('a batch given up on (retries used up) fails, and the partition restarts at 0 under a bumped epoch', async () => {
    const { producer, connection } = await connected({ retry: { retries: 1, initialRetryTimeMs: 1, maxRetryTimeMs: 2 } });
    const doomed = producer.send({ topic: 't', messages: messages('doomed', 2) });
    await waitFor(() => connection.pending().length === 1);
    connection.pending()[0].answer({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code });
    await waitFor(() => connection.pending().length === 1 && connection.produced.length === 2, { what: 'the retry' });
    expect(stampOf(connection.produced[1])).toEqual({ producerId: 1000, producerEpoch: 0, baseSequence: 0 });
    connection.produced[1].answer({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code });
    await expect(doomed).rejects.toMatchObject({ code: Errors.NOT_LEADER_OR_FOLLOWER.code });

    const next = producer.send({ topic: 't', messages: messages('next', 1) });
    await waitFor(() => connection.produced.length === 3);
    expect(connection.initProducerIdRequests).toEqual([{}, { producerId: 1000, producerEpoch: 0 }]);
    expect(stampOf(connection.produced[2])).toEqual({ producerId: 1000, producerEpoch: 1, baseSequence: 0 });
    connection.produced[2].answer({ baseOffset: 0 });
    await next;
  });
});

describe('idempotent producer: fenced', () => {
  it('INVALID_PRODUCER_EPOCH is fatal: the send rejects with RillProducerFencedError, and so do the others and later ones', async () => {
    const { producer, connection } = await connected({}, { t: 2 });
    const fencedSend = producer.send({ topic: 't', messages: messages('a', 2) });
    await waitFor(() => connection.produced.length === 1);
    const inFlight = producer.send({ topic: 't', messages: messages('b', 2) });
    const elsewhere = producer.send({ topic: 't', messages: messages('c', 2, 1) });
    await waitFor(() => connection.produced.length === 3);
    const outcomes: (PromiseSettledResult<unknown> | undefined)[] = [undefined, undefined, undefined];
    [fencedSend, inFlight, elsewhere].forEach((promise, i) =>
      promise.then(
        (value) => (outcomes[i] = { status: 'fulfilled', value }),
        (reason: unknown) => (outcomes[i] = { status: 'rejected', reason }),
      ),
    );

    connection.produced[0].answer({ errorCode: Errors.INVALID_PRODUCER_EPOCH.code, message: 'fenced by a newer epoch' });
    // Bounded: a send that never settles fails the test here rather than hanging it.
    await waitFor(() => outcomes.every((o) => o !== undefined), { timeoutMs: 1_000, what: 'every send to settle' }).catch(
      (error: Error) => {
        throw new Error(`${error.message}; settled: fenced=${outcomes[0] !== undefined} inFlight=${outcomes[1] !== undefined} elsewhere=${outcomes[2] !== undefined}`);
      },
    );
    for (const outcome of outcomes) {
      expect(outcome!.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(reason).toBeInstanceOf(RillProducerFencedError);
      expect(reason).toMatchObject({ code: Errors.INVALID_PRODUCER_EPOCH.code });
    }

    await expect(producer.send({ topic: 't', messages: messages('d', 1) })).rejects.toBeInstanceOf(RillProducerFencedError);
    await expect(producer.sendBatch({ topicMessages: [{ topic: 't', messages: messages('e', 1) }] })).rejects.toBeInstanceOf(RillProducerFencedError);
    await ticks(5);
    expect(connection.produced).toHaveLength(3); // nothing more is sent
    expect(connection.initProducerIdRequests).toHaveLength(1); // and no epoch bump is tried
    await producer.disconnect();
  });
});
