// The metadata state machine alone (commands as data, errors as data, fencing moves leaders, the
// snapshot round-trips) and through Raft: three voters on the simulated network keep identical
// state while the controller leader is killed, and gossip's DEAD notice fences a broker.

import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { MemberState } from '../../../src/cluster/gossip/messages.js';
import { MemoryNetwork } from '../../../src/cluster/memory-network.js';
import { MetadataController } from '../../../src/cluster/metadata/controller.js';
import { AUTO_REPLICATION_FACTOR, encodeCommand, MetadataState, NO_LEADER, type MetadataCommand, type MetadataResult } from '../../../src/cluster/metadata/metadata-state.js';
import { seededRandom } from '../../../src/cluster/random.js';
import { RaftServer } from '../../../src/cluster/raft/raft-server.js';
import { MemoryRaftStorage } from '../../../src/cluster/raft/raft-storage.js';
import { memoryRaftTransport } from '../../../src/cluster/raft/raft-transport.js';
import { VirtualClock } from '../../../src/cluster/virtual-clock.js';

const register = (id: number, rack: string | null = null): MetadataCommand => ({ type: 'register-broker', id, host: `h${id}`, ports: { broker: 9092 }, rack });

describe('MetadataState', () => {
  it('moves a partition to new replicas with a higher leader epoch; bad moves are refused', () => {
    const s = new MetadataState();
    for (const id of [1, 2, 3]) s.execute(register(id));
    s.execute({ type: 'create-topic', name: 'orders', partitions: 2, replicationFactor: 1 });
    const before = s.topic('orders')!.partitions[0];
    const target = [1, 2, 3].find((id) => id !== before.leader)!;
    expect(s.execute({ type: 'move-partition', name: 'orders', partition: 0, replicas: [target] }).ok).toBe(true);
    expect(s.topic('orders')!.partitions[0]).toEqual({ replicas: [target], leader: target, leaderEpoch: before.leaderEpoch + 1, isr: [target] });
    expect(s.execute({ type: 'move-partition', name: 'orders', partition: 9, replicas: [1] })).toMatchObject({ ok: false, code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    expect(s.execute({ type: 'move-partition', name: 'orders', partition: 0, replicas: [7] })).toMatchObject({ ok: false, code: Errors.INVALID_REQUEST.code });
    expect(s.execute({ type: 'move-partition', name: 'orders', partition: 0, replicas: [1, 1] })).toMatchObject({ ok: false, code: Errors.INVALID_REQUEST.code });
  });

  it('creates topics with placement, refuses duplicates and bad sizes with error codes', () => {
    const s = new MetadataState();
    for (const id of [1, 2, 3]) s.execute(register(id));
    const created = s.execute({ type: 'create-topic', name: 'orders', partitions: 3, replicationFactor: 2 });
    expect(created.ok).toBe(true);
    expect(s.topic('orders')!.partitions.map((p) => p.leader).sort()).toEqual([1, 2, 3]);
    expect(s.execute({ type: 'create-topic', name: 'orders', partitions: 1, replicationFactor: 1 })).toMatchObject({ ok: false, code: Errors.TOPIC_ALREADY_EXISTS.code });
    expect(s.execute({ type: 'create-topic', name: 'x', partitions: 0, replicationFactor: 1 })).toMatchObject({ ok: false, code: Errors.INVALID_PARTITIONS.code });
    expect(s.execute({ type: 'create-topic', name: 'x', partitions: 1, replicationFactor: 4 })).toMatchObject({ ok: false, code: Errors.INVALID_REPLICATION_FACTOR.code });
    expect(s.execute({ type: 'delete-topic', name: 'nope' })).toMatchObject({ ok: false, code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    expect(s.apply(new Uint8Array([0xc1]), 9)).toMatchObject({ ok: false, code: Errors.INVALID_REQUEST.code });
  });

  it('adds partitions with the topic\'s replication factor, spreading its leaders; refuses shrinking; replays identically', () => {
    const s = new MetadataState();
    for (const [id, rack] of [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b']] as const) s.execute(register(id, rack));
    const commands: MetadataCommand[] = [
      { type: 'create-topic', id: 'orders-id', name: 'orders', partitions: 2, replicationFactor: 2 },
      { type: 'create-partitions', name: 'orders', count: 4 },
    ];
    for (const c of commands) expect(s.execute(c).ok).toBe(true);
    const partitions = s.topic('orders')!.partitions;
    expect(partitions).toHaveLength(4);
    for (const p of partitions.slice(2)) {
      expect(p.replicas).toHaveLength(2);
      expect(p.leaderEpoch).toBe(0);
      expect(p.isr).toEqual(p.replicas);
      expect(new Set(p.replicas.map((r) => s.broker(r)!.rack)).size).toBe(2); // rack-aware
    }
    expect(new Set(partitions.map((p) => p.leader)).size).toBe(4); // leaders spread over every broker
    const before = JSON.stringify(s.topic('orders'));
    expect(s.execute({ type: 'create-partitions', name: 'orders', count: 3 })).toEqual({ ok: false, code: Errors.INVALID_PARTITIONS.code, message: 'Topic currently has 4 partitions, which is higher than the requested 3' });
    expect(s.execute({ type: 'create-partitions', name: 'orders', count: 4 })).toMatchObject({ ok: false, code: Errors.INVALID_PARTITIONS.code });
    expect(s.execute({ type: 'create-partitions', name: 'nope', count: 4 })).toMatchObject({ ok: false, code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    expect(JSON.stringify(s.topic('orders'))).toBe(before);
    const replayed = new MetadataState();
    [1, 2, 3, 4].forEach((id, i) => replayed.apply(encodeCommand(register(id, i % 2 === 0 ? 'a' : 'b')), i + 1));
    commands.forEach((c, i) => replayed.apply(encodeCommand(c), 10 + i));
    expect(JSON.stringify(replayed.topic('orders'))).toBe(before);
  });

  it('gives each incarnation of a topic its id: the proposer\'s, or (older commands) one from the log index, the same on every replica', () => {
    const log: MetadataCommand[] = [
      register(1),
      { type: 'create-topic', id: 'b7e0c1d2-first', name: 'orders', partitions: 1, replicationFactor: 1 },
      { type: 'delete-topic', name: 'orders' },
      { type: 'create-topic', name: 'orders', partitions: 1, replicationFactor: 1 }, // written before topic ids
    ];
    const states = [new MetadataState(), new MetadataState()];
    const ids: (string | undefined)[][] = [[], []];
    states.forEach((s, r) =>
      log.forEach((c, i) => {
        s.apply(encodeCommand(c), i + 1);
        ids[r].push(s.topic('orders')?.id);
      }),
    );
    expect(ids[0]).toEqual([undefined, 'b7e0c1d2-first', undefined, 'index-4']);
    expect(ids[1]).toEqual(ids[0]);
    // A snapshot carries the ids.
    const restored = new MetadataState();
    restored.restore(states[0].snapshot(), 4);
    expect(restored.topic('orders')!.id).toBe('index-4');
  });

  it('settles the default replication factor (-1) when the command applies: min(3, live brokers) then', () => {
    const s = new MetadataState();
    for (const id of [1, 2, 3, 4]) s.execute(register(id));
    expect(s.execute({ type: 'create-topic', name: 'wide', partitions: 2, replicationFactor: AUTO_REPLICATION_FACTOR })).toMatchObject({ ok: true });
    expect(s.topic('wide')!.partitions.map((p) => p.replicas.length)).toEqual([3, 3]);
    // A node fenced after a proposer counted it live (it just died): the creation still succeeds.
    s.execute({ type: 'fence-broker', id: 4 });
    s.execute({ type: 'fence-broker', id: 3 });
    expect(s.execute({ type: 'create-topic', name: 'after', partitions: 2, replicationFactor: AUTO_REPLICATION_FACTOR })).toMatchObject({ ok: true });
    expect(s.topic('after')!.partitions.map((p) => p.replicas.length)).toEqual([2, 2]);
    expect(s.topic('after')!.partitions.flatMap((p) => p.replicas).every((id) => id === 1 || id === 2)).toBe(true);
  });

  it('fencing a broker moves its leaderships and bumps leader epochs; unfencing restores offline partitions', () => {
    const s = new MetadataState();
    for (const id of [1, 2]) s.execute(register(id));
    s.execute({ type: 'create-topic', name: 't', partitions: 2, replicationFactor: 2 });
    s.execute({ type: 'create-topic', name: 'solo', partitions: 1, replicationFactor: 1 });
    const soloLeader = s.topic('solo')!.partitions[0].leader;
    s.execute({ type: 'fence-broker', id: 1 });
    expect(s.topic('t')!.partitions.map((p) => p.leader)).toEqual([2, 2]);
    expect(s.topic('t')!.partitions.map((p) => p.leaderEpoch).sort()).toEqual([0, 1]);
    s.execute({ type: 'fence-broker', id: 2 });
    expect(s.topic('t')!.partitions.every((p) => p.leader === NO_LEADER)).toBe(true);
    s.execute({ type: 'unfence-broker', id: soloLeader });
    expect(s.topic('solo')!.partitions[0].leader).toBe(soloLeader);
    expect(s.execute({ type: 'create-topic', name: 'u', partitions: 1, replicationFactor: 2 })).toMatchObject({ ok: false }); // one live broker
  });

  it('configs are set and removed; the snapshot restores everything', () => {
    const s = new MetadataState();
    s.execute(register(1, 'a'));
    s.execute({ type: 'create-topic', name: 't', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1000' } });
    s.execute({ type: 'set-topic-config', name: 't', key: 'cleanup.policy', value: 'compact' });
    s.execute({ type: 'set-topic-config', name: 't', key: 'retention.ms', value: null });
    const copy = new MetadataState();
    copy.restore(s.snapshot(), 7);
    expect(copy.topics()).toEqual(s.topics());
    expect(copy.brokers()).toEqual(s.brokers());
    expect(copy.topic('t')!.configs).toEqual({ 'cleanup.policy': 'compact' });
    expect(copy.version).toBe(7);
  });
});

describe('metadata through Raft', () => {
  it('three voters agree while the controller leader is killed; DEAD from gossip fences a broker', async () => {
    const clock = new VirtualClock();
    const network = new MemoryNetwork(clock, seededRandom(5), { loss: 0.05, minDelayMs: 1, maxDelayMs: 5 });
    const ids = [1, 2, 3];
    const storages = new Map(ids.map((id) => [id, new MemoryRaftStorage()]));
    const nodes = new Map<number, { raft: RaftServer<MetadataResult>; controller: MetadataController }>();
    const start = (id: number) => {
      const state = new MetadataState();
      const raft = new RaftServer<MetadataResult>({
        id, voters: ids, clusterId: 'm', storage: storages.get(id)!, transport: memoryRaftTransport(network, id),
        stateMachine: state, clock, random: seededRandom(id * 17), tickMs: 10, snapshotEvery: 5,
      });
      nodes.set(id, { raft, controller: new MetadataController(raft, state) });
    };
    ids.forEach(start);
    const leader = () => [...nodes.values()].find((n) => n.raft.isLeader);
    const run = async (command: MetadataCommand): Promise<MetadataResult> => {
      expect(clock.runUntilTrue(() => leader() !== undefined, 10_000, 10)).not.toBeNull();
      let result: MetadataResult | undefined;
      void leader()!.controller.submit(command).then((r) => (result = r));
      for (let i = 0; i < 1000 && result === undefined; i++) {
        clock.runFor(5);
        await Promise.resolve();
      }
      return result!;
    };
    for (const id of ids) expect((await run(register(id))).ok).toBe(true);
    expect((await run({ type: 'create-topic', name: 'a', partitions: 6, replicationFactor: 3 })).ok).toBe(true);

    const old = [...nodes.entries()].find(([, n]) => n.raft.isLeader)![0];
    nodes.get(old)!.raft.stop({ flush: false });
    nodes.delete(old);
    expect((await run({ type: 'create-topic', name: 'b', partitions: 3, replicationFactor: 2 })).ok).toBe(true);

    // Gossip declares the old leader's broker dead: the new controller fences it.
    const active = leader()!;
    active.controller.onMemberEvent({ type: 'dead', member: { id: old, state: MemberState.DEAD, incarnation: 0, info: { address: '', host: '', ports: {}, rack: null, load: {} }, since: 0 } });
    expect(clock.runUntilTrue(() => [...nodes.values()].every((n) => n.controller.state.broker(old)?.fenced === true), 10_000, 10)).not.toBeNull();
    for (const n of nodes.values()) for (const p of n.controller.state.topic('a')!.partitions) expect(p.leader).not.toBe(old);

    start(old); // restarts from its durable log and snapshot, and catches up
    const target = active.raft.lastApplied;
    expect(clock.runUntilTrue(() => nodes.get(old)!.raft.lastApplied >= target, 10_000, 10)).not.toBeNull();
    const states = [...nodes.values()].map((n) => n.controller.state);
    for (const s of states) expect({ topics: s.topics(), brokers: s.brokers() }).toEqual({ topics: states[0].topics(), brokers: states[0].brokers() });
    expect(encodeCommand(register(1)).length).toBeGreaterThan(0);
  });
});
