// A partition owner dies mid-load: requests to it fail retriably (never hang), a replacement
// thread recovers its partitions from disk, and they serve again with nothing acknowledged lost.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/config.js';
import { Errors } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import { ApiKeys, fetchRecordSets } from '../../src/protocol/index.js';
import { decodeRecordBatches } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf } from '../helpers/records.js';
import { TestClient } from '../helpers/protocol-client.js';
import { waitFor } from '../helpers/wait-for.js';

const tempDir = tempDirs();
let broker: Broker;
let client: TestClient;

beforeAll(async () => {
  const { config } = resolveBrokerConfig({ flags: { 'data.dir': tempDir(), port: 0, 'http.port': 0, workers: 2, 'log.flush.mode': 'sync' } });
  broker = await Broker.start(config, silentLogger, { workerExecArgv: ['--import', 'tsx'] });
  client = await TestClient.connect(broker.port);
});

afterAll(async () => {
  client.close();
  await broker.stop();
});

const produce = (partition: number, first: number) =>
  client.request(ApiKeys.Produce, { topic: 'orders', partition, acks: 1, timeoutMs: 5000 }, batchOf(first, 5)).then((r) => r.header as { errorCode: number; baseOffset: number });

async function offsets(partition: number): Promise<number[]> {
  const response = await client.request(ApiKeys.Fetch, { partitions: [{ topic: 'orders', partition, offset: 0, maxBytes: 1 << 22 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 22 });
  if (response.kind !== 'response' || response.apiKey !== ApiKeys.Fetch) throw new Error('not a fetch response');
  expect(response.header.partitions[0].errorCode).toBe(0);
  return decodeRecordBatches(fetchRecordSets(response.header, response.body)[0]).flatMap((b) => b.records.map((r) => r.offset));
}

describe('a partition owner dying mid-load', () => {
  it('fails in-flight requests retriably, then serves its partitions again from disk', async () => {
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders', partitions: 2 }] });
    // Partition 0 lives on worker 0, partition 1 on worker 1 (spread by count).
    const acked = [0, 0];
    for (let i = 0; i < 10; i++) for (const p of [0, 1]) acked[p] = (await produce(p, i * 5)).baseOffset + 5;

    // Load on worker 1 while it dies: every answer is a success or the retriable 5, none hangs.
    const load = Array.from({ length: 50 }, (_, i) => produce(1, 1000 + i * 5));
    await broker.crashWorker(1);
    // Asked at once, while the replacement is still starting: it waits for the slot or answers.
    const describing = client.request(ApiKeys.DescribeTopics, { topics: ['orders'] });
    const answers = await Promise.all(load);
    for (const answer of answers) expect([0, 5]).toContain(answer.errorCode);
    for (const answer of answers) if (answer.errorCode === 0) acked[1] = Math.max(acked[1], answer.baseOffset + 5);

    // DescribeTopics describes both partitions: worker 0's as usual, the dead worker's as it is
    // recovered (or LEADER_NOT_AVAILABLE, retriable, if its stats task died with the worker).
    const described = (await describing).header as { topics: { partitions: { errorCode: number; logEndOffset: number }[] }[] };
    expect(described.topics[0].partitions[0]).toMatchObject({ errorCode: 0, logEndOffset: 50 });
    expect([0, Errors.LEADER_NOT_AVAILABLE.code]).toContain(described.topics[0].partitions[1].errorCode);
    // Worker 0 never noticed.
    expect((await produce(0, 50)).errorCode).toBe(0);

    // The replacement recovers partition 1; produce succeeds again and every acked record is there.
    await waitFor(async () => (await produce(1, 0)).errorCode === 0, { timeoutMs: 20_000, intervalMs: 50, what: 'partition 1 to come back' });
    const recovered = await offsets(1);
    expect(recovered.length).toBeGreaterThanOrEqual(acked[1]);
    expect(recovered).toEqual(Array.from({ length: recovered.length }, (_, i) => i));
    expect((await offsets(0)).length).toBe(55);
  });
});

describe('retention on a schedule', () => {
  it('deletes expired segments on every worker when asked', async () => {
    await client.request(ApiKeys.CreateTopics, {
      topics: [{ name: 'short-lived', partitions: 2, configs: { 'retention.bytes': '4096', 'retention.ms': '-1', 'segment.bytes': '4096' } }],
    });
    for (let i = 0; i < 40; i++) {
      const r = await client.request(ApiKeys.Produce, { topic: 'short-lived', partition: i % 2, acks: 1, timeoutMs: 5000 }, batchOf(0, 5));
      expect((r.header as { errorCode: number }).errorCode).toBe(0);
    }
    await broker.applyRetention();
    const described = await client.request(ApiKeys.DescribeTopics, { topics: ['short-lived'] });
    const partitions = (described.header as { topics: { partitions: { logStartOffset: number; logEndOffset: number }[] }[] }).topics[0].partitions;
    for (const p of partitions) {
      expect(p.logEndOffset).toBe(100);
      expect(p.logStartOffset).toBeGreaterThan(0);
    }
  });
});
