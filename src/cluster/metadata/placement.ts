// Where a new topic's partition replicas go. Any thread; a pure function, so that every voter
// applying the same create-topic command computes the same assignment (metadata-state.ts).
//
// Even by count: each replica goes to the broker holding the fewest replicas so far (so replica
// counts never differ by more than one without racks); among those, the first replica of each
// partition (its preferred leader) goes to the broker leading the fewest; then the lowest id.
// The preferred leader is then the chosen replica leading the fewest: with a replication factor
// equal to the broker count every broker holds a replica of every partition, so replica counts
// alone would hand every preferred leadership to the same broker. Rack-aware when racks are set: a partition's replicas take distinct racks
// while any rack is still unused by it (as Kafka's rack-aware assignment), so losing one rack
// loses at most ceil(RF / racks) replicas of any partition.

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

export interface PlacementLoad {
  /** Replicas each broker holds already. */
  readonly replicas: ReadonlyMap<number, number>;
  /** Partitions each broker leads (preferred) already. */
  readonly leaders: ReadonlyMap<number, number>;
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
  const assignments: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const chosen: PlacementBroker[] = [];
    for (let r = 0; r < replicationFactor; r++) {
      const usedRacks = new Set(chosen.map((b) => b.rack));
      let candidates = sorted.filter((b) => !chosen.includes(b));
      if (rackAware && usedRacks.size < racks.size) candidates = candidates.filter((b) => !usedRacks.has(b.rack));
      const score = (b: PlacementBroker) => (r === 0 ? [replicas.get(b.id)!, leaders.get(b.id)!] : [replicas.get(b.id)!, 0]);
      let best = candidates[0];
      for (const c of candidates.slice(1)) {
        const [a1, a2] = score(c);
        const [b1, b2] = score(best);
        if (a1 < b1 || (a1 === b1 && a2 < b2)) best = c;
      }
      chosen.push(best);
      replicas.set(best.id, replicas.get(best.id)! + 1);
    }
    let lead = 0;
    for (let i = 1; i < chosen.length; i++) if (leaders.get(chosen[i].id)! < leaders.get(chosen[lead].id)!) lead = i;
    const [leader] = chosen.splice(lead, 1);
    chosen.unshift(leader);
    leaders.set(leader.id, leaders.get(leader.id)! + 1);
    assignments.push(chosen.map((b) => b.id));
  }
  return { ok: true, assignments };
}
