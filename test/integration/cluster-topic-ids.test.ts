// Topic ids with real node processes: node 3 sleeps through the delete of a topic it holds a copy
// of, the topic is created again under the same name with node 3 among its replicas, and node 3's
// copy must then hold the new topic's records only (its old files set aside in stray/, not served).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartitionLog, decodeRecordBatches } from '../../src/storage/index.js';
import { text } from '../helpers/records.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker } from './fixtures/broker-process.js';
import { clusterHarness } from './fixtures/cluster-harness.js';
import { statusOf } from './fixtures/cluster-process.js';

const { node, client } = clusterHarness('topic-ids-test');

/** Every value in a partition directory's log, read from the files of a stopped node. */
async function valuesOnDisk(dir: string): Promise<string[]> {
  const log = await PartitionLog.open(dir);
  try {
    const values: string[] = [];
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = log.read(offset, 1 << 20);
      for (const batch of decodeRecordBatches(read.records)) for (const r of batch.records) if (r.offset >= offset) values.push(text(r.value)!);
      offset = read.nextOffset;
    }
    return values;
  } finally {
    await log.close();
  }
}

describe('topic ids in a cluster of three node processes', () => {
  it('a node that slept through a delete does not serve its old copy as the new topic of the same name', async () => {
    const n1 = await node(1, []);
    const n2 = await node(2, [n1]);
    const n3 = await node(3, [n1, n2]);
    await waitFor(async () => (await statusOf(n1)).brokers.filter((b) => !b.fenced).length === 3, { timeoutMs: 15_000, what: 'three live brokers' });
    const admin = client(n1, n2).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'reborn', numPartitions: 1, replicationFactor: 3 }] })).toBe(true);
    const old = Array.from({ length: 50 }, (_, i) => `old-${i}`);
    const producer = client(n1, n2, n3).producer({ lingerMs: 1, acks: -1 });
    await producer.connect();
    await producer.send({ topic: 'reborn', messages: old.map((value) => ({ value })) }); // acks=all: node 3 has them too
    await producer.disconnect();
    const [first] = await admin.describeTopics({ topics: ['reborn'] });
    expect(first.topicId).toMatch(/^[0-9a-f-]{36}$/);

    // Node 3 goes away; the topic is deleted and node 3 comes back.
    await killBroker(n3);
    await waitFor(async () => (await statusOf(n1)).brokers.find((b) => b.id === 3)?.fenced === true, { timeoutMs: 15_000, what: 'node 3 fenced' });
    await admin.deleteTopics({ topics: ['reborn'] });
    const n3b = await node(3, [n1, n2], n3);
    await waitFor(async () => {
      const [a, b] = await Promise.all([statusOf(n1), statusOf(n3b)]);
      return a.brokers.find((x) => x.id === 3)?.fenced === false && b.metadataVersion >= a.metadataVersion;
    }, { timeoutMs: 15_000, what: 'node 3 back and caught up' });

    // Created again, one copy on every node, node 3's included.
    expect(await admin.createTopics({ topics: [{ topic: 'reborn', numPartitions: 1, replicationFactor: 3 }] })).toBe(true);
    const fresh = Array.from({ length: 10 }, (_, i) => `new-${i}`);
    const again = client(n1, n2).producer({ lingerMs: 1, acks: -1 });
    await again.connect();
    await again.send({ topic: 'reborn', messages: fresh.map((value) => ({ value })) });
    await again.disconnect();
    const [second] = await admin.describeTopics({ topics: ['reborn'] });
    expect(second.topicId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.topicId).not.toBe(first.topicId);
    const status = await statusOf(n1);
    expect(status.partitions.find((p) => p.topic === 'reborn')!.replicas.sort()).toEqual([1, 2, 3]);

    // Stop everything and read the files: every copy holds exactly the new records.
    for (const n of [n1, n2, n3b]) await killBroker(n);
    for (const n of [n1, n2, n3b]) expect(await valuesOnDisk(join(n.dataDir, 'topics', 'reborn', '0')), `node ${n.id}`).toEqual(fresh);
    // Node 3 either removed its old copy when it replayed the delete, or set it aside with a warning.
    const stray = join(n3b.dataDir, 'stray');
    if (existsSync(stray) && readdirSync(stray).length > 0) {
      expect(n3b.logs.some((l) => l.msg === 'set aside the files of an earlier topic of the same name')).toBe(true);
      const [aside] = readdirSync(stray);
      expect(await valuesOnDisk(join(stray, aside, '0'))).toEqual(old);
    }
  }, 90_000);
});
