// Replication over the wire between two in-process brokers (each with its owner workers, binary
// listener and TCP replica fetchers): the node glue — Broker.applyLeadership() and the AlterIsr
// handler — is called by hand here, as the cluster wiring will call it from metadata. The leader
// answers acks=all only once the follower fetched the records over ReplicaFetch; the leader stops,
// the follower leads in epoch 1; the old leader restarts as a follower (truncating by epoch first)
// and catches up; every acknowledged message is there exactly once, in order.

import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../../src/broker/config.js';
import { silentLogger } from '../../../src/logger.js';
import { MetadataState } from '../../../src/cluster/metadata/metadata-state.js';
import { isrOf } from '../../../src/cluster/metadata/leader-election.js';
import { ApiKeys, type DecodedResponse } from '../../../src/protocol/index.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/storage/index.js';
import { Errors } from '../../../src/errors.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';
import { TestClient } from '../../helpers/protocol-client.js';

const tempDir = tempDirs();
const brokers: Broker[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const b of brokers.splice(0)) await b.stop().catch(() => {});
});

type Header = Record<string, any>;
const header = (r: DecodedResponse): Header => r.header as Header;

async function start(id: number, dir: string): Promise<Broker> {
  const { config } = resolveBrokerConfig({ flags: { 'data.dir': dir, port: 0, 'http.port': 0, workers: 2, 'node.id': id } });
  const broker = await Broker.start(config, silentLogger, { workerExecArgv: ['--import', 'tsx'] });
  brokers.push(broker);
  return broker;
}

async function connect(broker: Broker): Promise<TestClient> {
  const client = await TestClient.connect(broker.port);
  clients.push(client);
  return client;
}

async function values(client: TestClient, topic: string): Promise<{ values: string[]; highWatermark: number }> {
  const r = await client.request(ApiKeys.Fetch, { partitions: [{ topic, partition: 0, offset: 0, maxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
  const out: string[] = [];
  for (const b of decodeRecordBatches(r.kind === 'response' ? r.body : new Uint8Array())) for (const rec of b.records) out.push(Buffer.from(rec.value!).toString());
  return { values: out, highWatermark: header(r).partitions[0].highWatermark };
}

describe('replication between two in-process brokers over the binary protocol', () => {
  it('replicates with acks=all over ReplicaFetch, fails over, and the old leader catches up as a follower', async () => {
    const dirs: Record<number, string> = { 1: tempDir(), 2: tempDir() };
    const state = new MetadataState();
    for (const id of [1, 2]) state.execute({ type: 'register-broker', id, host: '127.0.0.1', ports: {}, rack: null });
    state.execute({ type: 'create-topic', name: 'w', partitions: 1, replicationFactor: 2, configs: { 'min.insync.replicas': '2' } });
    const live = new Map<number, Broker>();
    const addresses = () => Object.fromEntries([...live].map(([id, b]) => [id, { host: '127.0.0.1', port: b.port }]));
    const handler = async (request: { topic: string; partition: number; leader: number; leaderEpoch: number; isr: number[] }) => {
      const result = state.execute({ type: 'alter-isr', ...request });
      const isr = [...isrOf(state.topic(request.topic)!.partitions[request.partition])];
      await propagate();
      return result.ok ? { topic: request.topic, partition: request.partition, errorCode: 0, isr } : { topic: request.topic, partition: request.partition, errorCode: result.code, message: result.message, isr };
    };
    // The glue: every live node applies the partition's leadership; node 1's main thread plays controller.
    const propagate = async () => {
      const p = state.topic('w')!.partitions[0];
      const m = { topic: 'w', partition: 0, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: isrOf(p), minInsyncReplicas: Number(state.topic('w')!.configs['min.insync.replicas']) };
      const controller = addresses()[Math.min(...live.keys())];
      for (const b of live.values()) await b.applyLeadership([m], addresses(), controller, { lagTimeMaxMs: 2_000, fetcher: { maxWaitMs: 200 } });
    };
    for (const id of [1, 2] as const) {
      const b = await start(id, dirs[id]);
      b.setAlterIsrHandler(handler);
      live.set(id, b);
      const client = await connect(b);
      expect(header(await client.request(ApiKeys.CreateTopics, { topics: [{ name: 'w', partitions: 1 }] })).topics[0].errorCode).toBe(0);
    }
    await propagate();
    const leaderId = state.topic('w')!.partitions[0].leader;
    const followerId = leaderId === 1 ? 2 : 1;
    const acked: string[] = [];
    let seq = 0;
    const produce = async (client: TestClient, timeoutMs = 10_000) => {
      const n = seq++;
      const answer = header(await client.request(ApiKeys.Produce, { topic: 'w', partition: 0, acks: -1, timeoutMs }, encodeRecordBatch({ producerId: 5, producerEpoch: 0, baseSequence: n, records: [{ value: `m-${n}` }] })));
      if (answer.errorCode === 0) acked.push(`m-${n}`);
      return answer;
    };

    const toLeader = await connect(live.get(leaderId)!);
    for (let i = 0; i < 20; i++) expect((await produce(toLeader)).errorCode).toBe(0);
    const toFollower = await connect(live.get(followerId)!);
    await waitFor(async () => (await values(toFollower, 'w')).values.length === 20, { what: 'the follower to replicate' });
    expect(header(await toFollower.request(ApiKeys.Produce, { topic: 'w', partition: 0, acks: 1, timeoutMs: 1000 }, encodeRecordBatch({ records: [{ value: 'x' }] }))).errorCode).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);

    // The leader stops; the controller fences it and elects the follower (epoch 1), ISR = [follower].
    const old = live.get(leaderId)!;
    live.delete(leaderId);
    toLeader.close();
    await old.stop();
    state.execute({ type: 'fence-broker', id: leaderId });
    state.execute({ type: 'set-topic-config', name: 'w', key: 'min.insync.replicas', value: '1' });
    await propagate();
    expect(state.topic('w')!.partitions[0]).toMatchObject({ leader: followerId, leaderEpoch: 1 });
    for (let i = 0; i < 10; i++) expect((await produce(toFollower)).errorCode).toBe(0);

    // The old leader restarts as a follower of epoch 1, catches up over the wire and rejoins the ISR.
    const back = await start(leaderId, dirs[leaderId]);
    back.setAlterIsrHandler(handler);
    live.set(leaderId, back);
    state.execute({ type: 'unfence-broker', id: leaderId });
    await propagate();
    const toBack = await connect(back);
    await waitFor(async () => (await values(toBack, 'w')).values.length === 30, { what: 'the old leader to catch up', timeoutMs: 20_000 });
    await waitFor(() => isrOf(state.topic('w')!.partitions[0]).length === 2, { what: 'the ISR to grow back', timeoutMs: 20_000 });
    for (let i = 0; i < 5; i++) expect((await produce(toFollower)).errorCode).toBe(0);
    await waitFor(async () => (await values(toBack, 'w')).values.length === 35, { what: 'the last records to replicate' });
    const seen = (await values(toFollower, 'w')).values;
    expect(seen).toEqual(acked);
    expect((await values(toBack, 'w')).values).toEqual(acked);
  }, 60_000);
});
