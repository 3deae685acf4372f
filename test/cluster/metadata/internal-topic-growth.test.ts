// Growing __consumer_offsets to offsets.topic.replication.factor once enough brokers are live: the
// plan, and the whole move through the metadata state machine.

import { describe, expect, it } from 'vitest';
import { MetadataState, type MetadataCommand } from '../../../src/cluster/metadata/metadata-state.js';
import { internalTopicGrowth } from '../../../src/cluster/metadata/internal-topic-growth.js';
import { reassignmentSteps } from '../../../src/cluster/metadata/reassignment-steps.js';
import { isrOf } from '../../../src/cluster/metadata/leader-election.js';

const register = (id: number): MetadataCommand => ({ type: 'register-broker', id, host: `h${id}`, ports: { broker: 9092 }, rack: null });
const OFFSETS = '__consumer_offsets';

/** Two brokers created the topic with RF 2 (all there was); brokers 3 and 4 join later. */
function cluster() {
  const s = new MetadataState();
  for (const id of [1, 2]) s.execute(register(id));
  s.execute({ type: 'create-topic', name: OFFSETS, partitions: 4, replicationFactor: 2 });
  return s;
}

describe('internal topic growth', () => {
  it('plans nothing while no more brokers are live than the topic has copies', () => {
    expect(internalTopicGrowth(cluster(), OFFSETS, 3)).toBeNull();
    expect(internalTopicGrowth(cluster(), 'missing', 3)).toBeNull();
  });

  it('adds the missing copies on the least loaded live brokers and evens out the preferred leaders', () => {
    const s = cluster();
    const before = s.topic(OFFSETS)!.partitions.map((p) => [...p.replicas]);
    for (const id of [3, 4]) s.execute(register(id));
    s.execute({ type: 'fence-broker', id: 4 });
    const plan = internalTopicGrowth(s, OFFSETS, 3)!;
    expect(plan).toHaveLength(4);
    plan.forEach((m, i) => {
      // The old copies stay; the new one is broker 3, the only live broker without one (4 is fenced).
      expect([...m.replicas].sort()).toEqual([...before[i], 3].sort());
    });
    // Leaders were 2 and 2 on brokers 1 and 2: broker 3 now leads one, so none leads more than one above another.
    const leads = [1, 2, 3].map((id) => plan.filter((m) => m.replicas[0] === id).length);
    expect(Math.max(...leads) - Math.min(...leads)).toBeLessThanOrEqual(1);
    expect(leads[2]).toBeGreaterThan(0);
    // With both new brokers live, the new copies are spread over them.
    s.execute({ type: 'unfence-broker', id: 4 });
    const spread = internalTopicGrowth(s, OFFSETS, 3)!.map((m) => m.replicas.find((id) => id > 2));
    expect(spread.filter((id) => id === 3)).toHaveLength(2);
    expect(spread.filter((id) => id === 4)).toHaveLength(2);
  });

  it('runs as a reassignment to RF 3 everywhere, and plans nothing while one is queued or moving', () => {
    const s = cluster();
    s.execute(register(3));
    expect(s.execute({ type: 'queue-reassignments', moves: internalTopicGrowth(s, OFFSETS, 3)! })).toMatchObject({ ok: true });
    expect(internalTopicGrowth(s, OFFSETS, 3)).toBeNull();
    // The controller's loop: start moves, the new copies join the ISR, moves finish.
    for (let round = 0; round < 20 && s.topic(OFFSETS)!.partitions.some((p) => p.replicas.length < 3 || p.addingReplicas !== undefined); round++) {
      for (const step of reassignmentSteps(s, 2)) expect(s.execute(step)).toMatchObject({ ok: true });
      s.topic(OFFSETS)!.partitions.forEach((p, partition) => {
        if (p.addingReplicas === undefined) return;
        s.execute({ type: 'alter-isr', topic: OFFSETS, partition, leader: p.leader, leaderEpoch: p.leaderEpoch, isr: [...new Set([...isrOf(p), ...p.addingReplicas])] });
      });
    }
    for (const p of s.topic(OFFSETS)!.partitions) {
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...isrOf(p)].sort()).toEqual([1, 2, 3]);
    }
    // Leadership followed the new preferred leaders (in sync by then): spread over the three.
    const leads = [1, 2, 3].map((id) => s.topic(OFFSETS)!.partitions.filter((p) => p.leader === id).length);
    expect(Math.max(...leads) - Math.min(...leads)).toBeLessThanOrEqual(1);
    expect(internalTopicGrowth(s, OFFSETS, 3)).toBeNull();
  });
});
