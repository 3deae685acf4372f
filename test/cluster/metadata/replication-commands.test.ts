// The replication commands of the metadata state machine: alter-isr (fenced by leader epoch),
// elect-leader (clean from the ISR, unclean only when the topic allows it, preferred), and fencing
// that elects from the ISR.

import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { MetadataState, NO_LEADER, type MetadataCommand } from '../../../src/cluster/metadata/metadata-state.js';
import { captureLogger } from '../../helpers/capture-logger.js';

const register = (id: number): MetadataCommand => ({ type: 'register-broker', id, host: `h${id}`, ports: { broker: 9092 }, rack: null });

function cluster(configs: Record<string, string> = {}) {
  const captured = captureLogger();
  const s = new MetadataState(captured.logger);
  for (const id of [1, 2, 3]) s.execute(register(id));
  s.execute({ type: 'create-topic', name: 't', partitions: 1, replicationFactor: 3, configs });
  return { s, p: () => s.topic('t')!.partitions[0], captured };
}

describe('alter-isr', () => {
  it('lets the current leader shrink and grow its ISR, in assignment order', () => {
    const { s, p } = cluster();
    const { leader, leaderEpoch, replicas } = p();
    expect(p().isr).toEqual(replicas);
    const others = replicas.filter((r) => r !== leader);
    expect(s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader, leaderEpoch, isr: [leader] })).toMatchObject({ ok: true });
    expect(p().isr).toEqual([leader]);
    expect(s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader, leaderEpoch, isr: [others[1], leader, others[0]] })).toMatchObject({ ok: true });
    expect(p().isr).toEqual(replicas);
    expect(p().leaderEpoch).toBe(leaderEpoch);
  });

  it('refuses a stale leader, a non-replica, a fenced joiner and a malformed ISR with codes', () => {
    const { s, p } = cluster();
    const { leader, leaderEpoch, replicas } = p();
    const other = replicas.find((r) => r !== leader)!;
    const alter = (over: Partial<Extract<MetadataCommand, { type: 'alter-isr' }>>) => s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader, leaderEpoch, isr: [leader], ...over });
    expect(alter({ leaderEpoch: leaderEpoch - 1 })).toMatchObject({ ok: false, code: Errors.FENCED_LEADER_EPOCH.code });
    expect(alter({ leader: other })).toMatchObject({ ok: false, code: Errors.FENCED_LEADER_EPOCH.code });
    expect(alter({ isr: [leader, 9] })).toMatchObject({ ok: false, code: Errors.NOT_IN_ISR.code });
    expect(alter({ isr: [other] })).toMatchObject({ ok: false, code: Errors.INVALID_REQUEST.code });
    expect(alter({ isr: [leader, leader] })).toMatchObject({ ok: false, code: Errors.INVALID_REQUEST.code });
    expect(alter({ partition: 5 })).toMatchObject({ ok: false, code: Errors.UNKNOWN_TOPIC_OR_PARTITION.code });
    alter({ isr: [leader] });
    s.execute({ type: 'fence-broker', id: other });
    expect(alter({ isr: [leader, other] })).toMatchObject({ ok: false, code: Errors.NOT_IN_ISR.code });
    expect(p().isr).toEqual([leader]);
  });
});

describe('leader election', () => {
  it('fencing the leader elects the next ISR member and bumps the epoch; fenced brokers leave the ISR', () => {
    const { s, p } = cluster();
    const [a, b, c] = p().replicas;
    s.execute({ type: 'fence-broker', id: a });
    expect(p()).toMatchObject({ leader: b, leaderEpoch: 1, isr: [b, c] });
    // c drops out of the ISR; b dies: c is live but not in sync, so the partition goes offline.
    s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader: b, leaderEpoch: 1, isr: [b] });
    s.execute({ type: 'fence-broker', id: b });
    expect(p()).toMatchObject({ leader: NO_LEADER, leaderEpoch: 2, isr: [b] });
    expect(s.execute({ type: 'elect-leader', topic: 't', partition: 0 })).toMatchObject({ ok: false, code: Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code });
    // b, the last in-sync replica, comes back and leads again.
    s.execute({ type: 'unfence-broker', id: b });
    expect(p()).toMatchObject({ leader: b, leaderEpoch: 3, isr: [b] });
    expect(s.execute({ type: 'elect-leader', topic: 't', partition: 0 })).toMatchObject({ ok: false, code: Errors.ELECTION_NOT_NEEDED.code });
  });

  it('elects an out-of-sync replica only with unclean.leader.election.enable=true, and says so loudly', () => {
    const { s, p, captured } = cluster({ 'unclean.leader.election.enable': 'true' });
    const [a, b] = p().replicas;
    s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader: a, leaderEpoch: 0, isr: [a] });
    s.execute({ type: 'fence-broker', id: a });
    expect(p()).toMatchObject({ leader: b, isr: [b], leaderEpoch: 1 });
    expect(captured.lines.some((l) => l.level === 50 && /UNCLEAN LEADER ELECTION/.test(String(l.msg)))).toBe(true);
  });

  it('moves leadership back to the preferred replica once it is live and in sync', () => {
    const { s, p } = cluster();
    const [a, b, c] = p().replicas;
    s.execute({ type: 'fence-broker', id: a });
    s.execute({ type: 'unfence-broker', id: a });
    expect(p()).toMatchObject({ leader: b, isr: [b, c] });
    expect(s.preferredElectionsDue()).toEqual([]);
    expect(s.execute({ type: 'elect-leader', topic: 't', partition: 0, preferred: true })).toMatchObject({ ok: false, code: Errors.PREFERRED_LEADER_NOT_AVAILABLE.code });
    s.execute({ type: 'alter-isr', topic: 't', partition: 0, leader: b, leaderEpoch: 1, isr: [a, b, c] });
    expect(s.preferredElectionsDue()).toEqual([{ topic: 't', partition: 0 }]);
    expect(s.execute({ type: 'elect-leader', topic: 't', partition: 0, preferred: true })).toMatchObject({ ok: true });
    expect(p()).toMatchObject({ leader: a, leaderEpoch: 2, isr: [a, b, c] });
    expect(s.execute({ type: 'elect-leader', topic: 't', partition: 0, preferred: true })).toMatchObject({ ok: false, code: Errors.ELECTION_NOT_NEEDED.code });
  });

  it('the ISR survives a snapshot', () => {
    const { s } = cluster();
    const copy = new MetadataState();
    copy.restore(s.snapshot(), 3);
    expect(copy.topics()).toEqual(s.topics());
  });
});
