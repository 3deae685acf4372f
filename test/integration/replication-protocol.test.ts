// The replication APIs against a real single-node broker process: a partition that is not
// replicated answers ReplicaFetch and OffsetForLeaderEpoch with NOT_LEADER_OR_FOLLOWER per
// partition, AlterIsr off the controller gets NOT_CONTROLLER, a malformed ReplicaFetch gets a clear
// error — and the broker keeps serving produce (acks=-1 is acks=1 without replication) and fetch.

import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeys, type DecodedResponse } from '../../src/protocol/index.js';
import { Errors } from '../../src/errors.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { batchOf } from '../helpers/records.js';
import { TestClient } from '../helpers/protocol-client.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
const running: BrokerProcess[] = [];
const clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const broker of running.splice(0)) if (broker.child.exitCode === null && broker.child.signalCode === null) await killBroker(broker);
});

type Header = Record<string, any>;
const header = (response: DecodedResponse): Header => response.header as Header;

describe('replication APIs on a single-node broker', () => {
  it('answers with per-partition errors, refuses bad requests clearly, and keeps serving', async () => {
    const broker = await startBroker(tempDir(), ['--workers', '2']);
    running.push(broker);
    const client = await TestClient.connect(broker.port);
    clients.push(client);
    await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'r', partitions: 2 }] });

    const fetched = await client.request(ApiKeys.ReplicaFetch, {
      replicaId: 2,
      partitions: [
        { topic: 'r', partition: 0, leaderEpoch: 0, fetchOffset: 0, maxBytes: 1 << 20 },
        { topic: 'r', partition: 1, leaderEpoch: 0, fetchOffset: 0, maxBytes: 1 << 20 },
        { topic: 'absent', partition: 0, leaderEpoch: 0, fetchOffset: 0, maxBytes: 1 << 20 },
      ],
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    expect(header(fetched).partitions.map((p: Header) => p.errorCode)).toEqual([Errors.NOT_LEADER_OR_FOLLOWER.code, Errors.NOT_LEADER_OR_FOLLOWER.code, Errors.NOT_LEADER_OR_FOLLOWER.code]);

    const epochs = await client.request(ApiKeys.OffsetForLeaderEpoch, { replicaId: 2, partitions: [{ topic: 'r', partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] });
    expect(header(epochs).partitions[0]).toMatchObject({ errorCode: Errors.NOT_LEADER_OR_FOLLOWER.code, leaderEpoch: -1, endOffset: -1 });

    const alter = await client.request(ApiKeys.AlterIsr, { topic: 'r', partition: 0, leader: 1, leaderEpoch: 0, isr: [1] });
    expect(header(alter)).toMatchObject({ errorCode: Errors.NOT_CONTROLLER.code, isr: [] });

    const bad = await client.request(ApiKeys.ReplicaFetch, { replicaId: -1, partitions: [], maxWaitMs: 0, minBytes: 0, maxBytes: 1 } as never);
    expect(bad.kind).toBe('error-response');
    expect((bad as Header).errorCode).toBe(Errors.INVALID_REQUEST.code);

    const produced = await client.request(ApiKeys.Produce, { topic: 'r', partition: 0, acks: -1, timeoutMs: 5000 }, batchOf(0, 3));
    expect(header(produced)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    const read = await client.request(ApiKeys.Fetch, { partitions: [{ topic: 'r', partition: 0, offset: 0, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    expect(header(read).partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 3 });
  });
});
