// Where a new topic's partition replicas go. Any thread; a pure function, so that every voter
// applying the same create-topic command computes the same assignment (metadata-state.ts).
//
// Preferred leaders first: each partition's first replica (its preferred leader) goes to the
// broker leading the fewest partitions of this topic, then the fewest in all, then holding the
// fewest replicas, then the lowest id. So a topic's own leaders are spread within one of even
// whatever the cluster already holds (a hot topic must use every node), and the existing load
// decides where the remainder goes. The old rule, replica counts first and leadership second,
// gave a 3-partition RF 3 topic on 3 nodes two leaders on one node and none on another after
// __consumer_offsets had made the counts uneven. Then the other replicas: each to the broker
// holding the fewest replicas, then the lowest id. Rack-aware when racks are set: a partition's
// replicas take distinct racks while any rack is still unused by it (as Kafka's rack-aware
// assignment), so losing one rack loses at most ceil(RF / racks) replicas of any partition.

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

export interface PlacementLoad {
  /** Replicas each broker holds already. */
  readonly replicas: ReadonlyMap<number, number>;
  /** Partitions each broker leads (preferred) already. */
  readonly leaders: ReadonlyMap<number, number>;
  /** Partitions of this topic each broker leads (preferred) already: a topic growing (create-partitions) keeps its leaders spread. */
  readonly topicLeaders?: ReadonlyMap<number, number>;
}

export type PlacementResult = { ok: true; assignments: number[][] } | { ok: false; reason: 'no-brokers' | 'replication-factor' };

export function placePartitions(brokers: readonly PlacementBroker[], partitions: number, replicationFactor: number, load?: PlacementLoad): PlacementResult {
  if (brokers.length === 0) return { ok: false, reason: 'no-brokers' };
  if (replicationFactor < 1 || replicationFactor > brokers.length) return { ok: false, reason: 'replication-factor' };
  const replicas = new Map(brokers.map((b) => [b.id, load?.replicas.get(b.id) ?? 0]));
  const leaders = new Map(brokers.map((b) => [b.id, load?.leaders.get(b.id) ?? 0]));
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  const racks = new Set(sorted.map((b) => b.rack));
  const rackAware = racks.size > 1 || (racks.size === 1 && !racks.has(null));
  const topicLeaders = new Map(brokers.map((b) => [b.id, load?.topicLeaders?.get(b.id) ?? 0]));
  const assignments: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const chosen: PlacementBroker[] = [];
    for (let r = 0; r < replicationFactor; r++) {
      const usedRacks = new Set(chosen.map((b) => b.rack));
      let candidates = sorted.filter((b) => !chosen.includes(b));
      if (rackAware && usedRacks.size < racks.size) candidates = candidates.filter((b) => !usedRacks.has(b.rack));
      const score = (b: PlacementBroker) => (r === 0 ? [topicLeaders.get(b.id)!, leaders.get(b.id)!, replicas.get(b.id)!] : [replicas.get(b.id)!]);
      let best = candidates[0];
      for (const c of candidates.slice(1)) if (lessThan(score(c), score(best))) best = c;
      chosen.push(best);
      replicas.set(best.id, replicas.get(best.id)! + 1);
    }
    const leader = chosen[0].id;
    leaders.set(leader, leaders.get(leader)! + 1);
    topicLeaders.set(leader, topicLeaders.get(leader)! + 1);
    assignments.push(chosen.map((b) => b.id));
  }
  return { ok: true, assignments };
}

/** Lexicographic order of equal-length scores; ties keep the earlier (lower id) broker. */
function lessThan(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}
