import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { lineMessage, produce, ProduceFailure, type ProduceInput, type ProduceSettings } from '../../src/cli/produce-command.js';
import { Errors, RillError, isRillError } from '../../src/errors.js';
import { FakeBroker, type FakeBehaviour } from './fake-client.js';

const options = { brokers: ['127.0.0.1:9400'], timeoutMs: 2000, timeoutGiven: false };
const settings = (extra: Partial<ProduceSettings> = {}): ProduceSettings => ({ topic: 't', acks: 1, idempotent: false, ...extra });
const lines = (text: string): ProduceInput => ({ mode: 'lines', input: Readable.from([Buffer.from(text)]) });
const values = (broker: FakeBroker, partition = 0) => broker.topic('t').partitions[partition].map((m) => m.value?.toString());

async function run(input: ProduceInput, extra: Partial<ProduceSettings> = {}, behaviour: FakeBehaviour = {}, partitions = 1) {
  const broker = new FakeBroker(behaviour);
  broker.addTopic('t', partitions);
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c) => (err += c));
  let error: unknown;
  try {
    await produce(broker.factory({ brokers: options.brokers }), settings(extra), input, options, stderr);
  } catch (e) {
    error = e;
  }
  return { broker, error, stderr: () => err };
}

describe('rill produce', () => {
  it('sends every line, in order, empty lines included', async () => {
    const input = Array.from({ length: 2500 }, (_, i) => (i % 100 === 7 ? '' : `line-${i}`));
    const { broker, error } = await run(lines(input.join('\n') + '\n'));
    expect(error).toBeUndefined();
    expect(values(broker)).toEqual(input);
  });

  it('splits key and value at the separator; the value may hold it again', async () => {
    const { broker } = await run(lines('k1\tv1\nk2\tv\t2\n\tnokey\n'), { keySeparator: '\t' });
    const log = broker.topic('t').partitions[0];
    expect(log.map((m) => [m.key?.toString(), m.value?.toString()])).toEqual([
      ['k1', 'v1'],
      ['k2', 'v\t2'],
      ['', 'nokey'],
    ]);
  });

  it('refuses a line without the separator, naming its number, after sending the lines before it', async () => {
    const { broker, error } = await run(lines('a:1\nb:2\nbroken\nc:3\n'), { keySeparator: ':' });
    expect(error).toBeInstanceOf(ProduceFailure);
    expect((error as Error).message).toBe('INVALID_RECORD: line 3 has no key separator ":" (2 of 2 messages acknowledged)');
    expect(values(broker)).toEqual(['1', '2']);
  });

  it('puts --key, --header and --partition on every message', async () => {
    const { broker } = await run({ mode: 'single', value: Buffer.from('v') }, { key: Buffer.from('k'), headers: { a: '1', b: 'x=y' }, partition: 2 }, {}, 3);
    const [message] = broker.topic('t').partitions[2];
    expect(message.key?.toString()).toBe('k');
    expect(message.value?.toString()).toBe('v');
    expect(Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.toString()]))).toEqual({ a: '1', b: 'x=y' });
  });

  it('generates --count messages of --size bytes and prints a summary', async () => {
    const { broker, stderr } = await run({ mode: 'load', count: 2345, size: 64 }, {}, {}, 2);
    const all = broker.topic('t').partitions.flat();
    expect(all).toHaveLength(2345);
    expect(all.every((m) => m.value?.length === 64 && /^[A-Z]+$/.test(m.value.toString()))).toBe(true);
    expect(stderr()).toMatch(/^2345 messages in \d+\.\d\d s: \d+\.\d msgs\/s, \d+\.\d\d MB\/s\n$/);
  });

  it('fails with the acknowledged count when a send fails', async () => {
    const error = new RillError(Errors.NOT_ENOUGH_REPLICAS);
    const result = await run({ mode: 'load', count: 5000, size: 10 }, {}, { failSend: { from: 3, error } });
    expect(result.error).toBeInstanceOf(ProduceFailure);
    const failure = result.error as ProduceFailure;
    expect(failure.reason).toBe(error);
    expect(failure.acknowledged).toBe(2000);
    expect(failure.acknowledged).toBe(result.broker.topic('t').partitions[0].length);
    expect(failure.message).toMatch(/^NOT_ENOUGH_REPLICAS: .* \(2000 of \d+ messages acknowledged\)$/);
    // The summary still tells how far the run got.
    expect(result.stderr()).toMatch(/^2000 messages in/);
  });

  it('fails fast, with the error itself, for an unknown topic or partition', async () => {
    const broker = new FakeBroker();
    const unknownTopic = await produce(broker.factory({ brokers: [] }), settings({ topic: 'nope' }), lines('x\n'), options).catch((e) => e);
    expect(isRillError(unknownTopic, Errors.UNKNOWN_TOPIC_OR_PARTITION)).toBe(true);
    const unknownPartition = (await run(lines('x\n'), { partition: 3 }, {}, 2)).error;
    expect(isRillError(unknownPartition, Errors.UNKNOWN_TOPIC_OR_PARTITION)).toBe(true);
    expect((unknownPartition as Error).message).toBe('Topic t has no partition 3 (it has 2: 0..1)');
  });

  it('gives up connecting after --timeout-ms', async () => {
    const broker = new FakeBroker({ hangOnConnect: true });
    broker.addTopic('t');
    const started = Date.now();
    const error = await produce(broker.factory({ brokers: [] }), settings(), lines('x\n'), { ...options, timeoutMs: 200 }).catch((e) => e);
    expect(isRillError(error, Errors.REQUEST_TIMED_OUT)).toBe(true);
    expect((error as Error).message).toBe('could not reach the broker at 127.0.0.1:9400 within 200 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('builds one message from a line', () => {
    const s = settings({ keySeparator: '=>' });
    expect(lineMessage(s, Buffer.from('a=>b=>c'), 1)).toEqual({ key: Buffer.from('a'), value: Buffer.from('b=>c') });
    expect(lineMessage(settings(), Buffer.from('plain'), 1)).toEqual({ value: Buffer.from('plain') });
  });
});
