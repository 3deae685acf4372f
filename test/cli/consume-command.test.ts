import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { consume, planPartitions, type ConsumeSettings } from '../../src/cli/consume-command.js';
import { OutputSink } from '../../src/cli/output-sink.js';
import { Errors, isRillError } from '../../src/errors.js';
import { FakeBroker } from './fake-client.js';
import { waitFor } from '../helpers/wait-for.js';

const options = { brokers: ['127.0.0.1:9400'], timeoutMs: 2000, timeoutGiven: false };

function broker(partitions: number, perPartition: number, batchSize = 100): FakeBroker {
  const fake = new FakeBroker({ batchSize });
  fake.addTopic('t', partitions);
  for (let p = 0; p < partitions; p++) for (let i = 0; i < perPartition; i++) fake.append('t', p, { key: `k${i}`, value: `p${p}-${i}`, headers: { h: 'v' } });
  return fake;
}

function output() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c) => (text += c));
  return { sink: new OutputSink(stream), text: () => text, lines: () => text.split('\n').slice(0, -1) };
}

const settings = (extra: Partial<ConsumeSettings> = {}): ConsumeSettings => ({ topic: 't', start: 'earliest', follow: false, format: 'value', timeoutMs: 2000, ...extra });

describe('rill consume', () => {
  it('reads every partition from the beginning and stops at the end offsets seen at start', async () => {
    const fake = broker(3, 250, 40);
    const out = output();
    const count = await consume(fake.factory({ brokers: [] }), settings(), options, out.sink);
    expect(count).toBe(750);
    const expected = [0, 1, 2].flatMap((p) => Array.from({ length: 250 }, (_, i) => `p${p}-${i}`));
    expect([...out.lines()].sort()).toEqual([...expected].sort());
    // Per partition, in offset order.
    for (const p of [0, 1, 2]) expect(out.lines().filter((l) => l.startsWith(`p${p}-`))).toEqual(expected.filter((l) => l.startsWith(`p${p}-`)));
  });

  it('reads one partition from an offset, up to --max', async () => {
    const fake = broker(2, 100);
    const out = output();
    expect(await consume(fake.factory({ brokers: [] }), settings({ partition: 1, start: 90, max: 5 }), options, out.sink)).toBe(5);
    expect(out.lines()).toEqual(['p1-90', 'p1-91', 'p1-92', 'p1-93', 'p1-94']);
  });

  it('prints JSON lines with every field', async () => {
    const fake = broker(1, 2);
    const out = output();
    await consume(fake.factory({ brokers: [] }), settings({ format: 'json' }), options, out.sink);
    expect(out.lines().map((l) => JSON.parse(l))).toEqual([
      { topic: 't', partition: 0, offset: 0, timestamp: 1_700_000_000_000, key: 'k0', headers: { h: 'v' }, value: 'p0-0' },
      { topic: 't', partition: 0, offset: 1, timestamp: 1_700_000_000_001, key: 'k1', headers: { h: 'v' }, value: 'p0-1' },
    ]);
  });

  it('reads nothing from the end without --follow', async () => {
    const out = output();
    expect(await consume(broker(2, 10).factory({ brokers: [] }), settings({ start: 'latest' }), options, out.sink)).toBe(0);
    expect(out.text()).toBe('');
  });

  it('does not print messages produced after it started, without --follow', async () => {
    const fake = broker(1, 3, 1);
    const out = output();
    const consuming = consume(fake.factory({ brokers: [] }), settings(), options, out.sink);
    await waitFor(() => fake.iterating > 0);
    fake.append('t', 0, { value: 'late' });
    expect(await consuming).toBe(3);
    expect(out.lines()).toEqual(['p0-0', 'p0-1', 'p0-2']);
  });

  it('with --follow, receives messages produced later, until stopped', async () => {
    const fake = broker(2, 0);
    const out = output();
    const stop = new AbortController();
    const consuming = consume(fake.factory({ brokers: [] }), settings({ start: 'latest', follow: true, timeoutMs: undefined }), options, out.sink, stop.signal);
    // Wait until the consumer is assigned and iterating, then produce.
    await waitFor(() => fake.iterating > 0);
    fake.append('t', 1, { value: 'first' });
    await waitFor(() => out.text().includes('first'), { what: 'the first message' });
    fake.append('t', 0, { value: 'second' });
    await waitFor(() => out.text().includes('second'), { what: 'the second message' });
    stop.abort();
    expect(await consuming).toBe(2);
  });

  it('with --follow and --timeout-ms, ends quietly after that long without a message', async () => {
    const out = output();
    const count = await consume(broker(1, 2).factory({ brokers: [] }), settings({ follow: true, timeoutMs: 100 }), options, out.sink);
    expect(count).toBe(2);
  });

  it('stops when the reader goes away', async () => {
    const fake = broker(1, 1000, 10);
    const stream = new PassThrough();
    const sink = new OutputSink(stream);
    let seen = 0;
    stream.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > 200) stream.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    });
    const count = await consume(fake.factory({ brokers: [] }), settings(), options, sink);
    expect(count).toBeLessThan(1000);
    expect(sink.closed).toBe(true);
    expect(sink.error).toBeUndefined();
  });

  it('names the unknown topic, partition or offset', async () => {
    const fake = broker(2, 10);
    const client = () => fake.factory({ brokers: [] });
    const out = output();
    const unknownTopic = await consume(client(), settings({ topic: 'nope' }), options, out.sink).catch((e) => e);
    expect(isRillError(unknownTopic, Errors.UNKNOWN_TOPIC_OR_PARTITION)).toBe(true);
    const unknownPartition = await consume(client(), settings({ partition: 2 }), options, out.sink).catch((e) => e);
    expect((unknownPartition as Error).message).toBe('Topic t has no partition 2 (it has 2: 0..1)');
    const outOfRange = await consume(client(), settings({ start: 11 }), options, out.sink).catch((e) => e);
    expect(isRillError(outOfRange, Errors.OFFSET_OUT_OF_RANGE)).toBe(true);
    expect((outOfRange as Error).message).toBe('Offset 11 is outside partition 0 of t, which holds 0..10');
  });

  it('plans start and end offsets per partition', () => {
    const offsets = [
      { partition: 1, low: 5, high: 20 },
      { partition: 0, low: 0, high: 10 },
    ];
    expect(planPartitions('t', offsets, { start: 'earliest' })).toEqual([
      { partition: 0, start: 0, end: 10 },
      { partition: 1, start: 5, end: 20 },
    ]);
    expect(planPartitions('t', offsets, { start: 'latest', partition: 1 })).toEqual([{ partition: 1, start: 20, end: 20 }]);
    expect(planPartitions('t', offsets, { start: 7, partition: 1 })).toEqual([{ partition: 1, start: 7, end: 20 }]);
  });
});
