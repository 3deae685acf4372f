// A partition owner dying on a cluster node: the replacement thread reopens the node's replicas as
// replicas (refusing produce until told its role) and the view sends their roles again at once,
// so they lead again without waiting for some unrelated metadata change.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/config.js';
import { silentLogger } from '../../src/logger.js';
import { ApiKeys } from '../../src/protocol/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf } from '../helpers/records.js';
import { TestClient } from '../helpers/protocol-client.js';
import { waitFor } from '../helpers/wait-for.js';

const tempDir = tempDirs();
let broker: Broker;
let client: TestClient;

beforeAll(async () => {
  const flags = { 'data.dir': tempDir(), port: 0, 'http.port': 0, workers: 2, 'node.id': 1, 'controller.voters': '1', 'cluster.port': 0, 'controller.port': 0, 'gossip.period.ms': 50 };
  const { config } = resolveBrokerConfig({ flags });
  broker = await Broker.start(config, silentLogger, { workerExecArgv: ['--import', 'tsx'] });
  client = await TestClient.connect(broker.port);
});

afterAll(async () => {
  client.close();
  await broker.stop();
});

type Described = { topics: { partitions: { partition: number; errorCode: number; logEndOffset: number }[] }[] };
/** The partitions of 'orders' as DescribeTopics shows them ([] while it cannot answer: a worker is down). */
const describeOrders = async () => ((await client.request(ApiKeys.DescribeTopics, { topics: ['orders'] })).header as Partial<Described>).topics?.[0].partitions ?? [];
const produce = (partition: number) =>
  client.request(ApiKeys.Produce, { topic: 'orders', partition, acks: -1, timeoutMs: 5000 }, batchOf(0, 5)).then((r) => (r.header as { errorCode: number }).errorCode);
/** Both partitions led here: DescribeTopics answers LEADER_NOT_AVAILABLE for a replica without its role. */
const bothLed = async () => {
  const partitions = await describeOrders();
  return partitions.length === 2 && partitions.every((p) => p.errorCode === 0);
};

describe('a partition owner dying on a cluster node', () => {
  it('gets its replicas their roles back on the replacement thread', async () => {
    // The node elects itself controller first; until then creation is refused (retriably).
    const create = async () => {
      const created = (await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'orders', partitions: 2 }] })).header as { topics: { errorCode: number; message?: string }[] };
      return created.topics[0].errorCode === 0 || created.topics[0].errorCode === 36; // created, or already (an earlier try)
    };
    await waitFor(create, { timeoutMs: 20_000, intervalMs: 50, what: 'the topic to be created' });
    await waitFor(bothLed, {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: 'the topic to be led here',
    });
    for (const p of [0, 1]) expect(await produce(p)).toBe(0);

    await broker.crashWorker(1);
    // Both partitions lead again and take acks=all produce; nothing acknowledged before the crash is gone.
    await waitFor(async () => (await bothLed()) && (await produce(0)) === 0 && (await produce(1)) === 0, {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: 'both partitions to lead again',
    });
    for (const p of await describeOrders()) expect(p.logEndOffset).toBeGreaterThanOrEqual(10);
  });
});
