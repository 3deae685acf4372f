// The target placement `rill cluster rebalance` moves partitions towards. Any thread; a pure
// function of the metadata it is given, so a dry run and the real run agree.
//
// Two passes, both greedy and both moving as little as possible:
// 1. Replica counts. While the live broker holding the most replicas holds two more than the one
//    holding the fewest, one replica moves from the first to the second: a replica of a partition
//    the receiver does not hold yet, that keeps the partition on as many racks as before (when
//    racks are set), preferring a follower over the leader (moving a follower copies data but
//    never moves leadership). Without racks this always reaches counts within one of each other:
//    the busiest broker holds at least two partitions more than the idlest, so at least one of
//    them is not on the idlest. Every step moves one replica from a broker above the others'
//    level to one below it, so no replica moves twice and none moves needlessly.
// 2. Preferred leaders (the first replica of each partition). While one broker is the preferred
//    leader of two more partitions than another broker holding a replica of one of them, that
//    replica is put first. Reordering copies no data; the leader moves when the move completes.
//
// Only partitions whose replicas are all on live brokers, that have a leader, and that are not
// being moved already take part; the others keep their replicas (and count towards the load).

export interface PlannerBroker {
  readonly id: number;
  readonly rack: string | null;
}

export interface PlannerPartition {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  /** False for partitions that must stay put (leaderless, on a fenced broker, already moving). */
  readonly movable: boolean;
}

export interface PlannedMove {
  topic: string;
  partition: number;
  /** The replicas now (preferred leader first). */
  replicas: number[];
  /** The replicas after the move (preferred leader first). */
  target: number[];
}

export function planReassignment(brokers: readonly PlannerBroker[], partitions: readonly PlannerPartition[]): PlannedMove[] {
  const live = new Map(brokers.map((b) => [b.id, b]));
  const rackAware = new Set(brokers.map((b) => b.rack)).size > 1 || brokers.some((b) => b.rack !== null);
  const rackOf = (id: number) => live.get(id)?.rack ?? null;
  const racksOf = (replicas: readonly number[]) => new Set(replicas.map(rackOf)).size;
  const targets = partitions.map((p) => [...p.replicas]);
  const count = new Map(brokers.map((b) => [b.id, 0]));
  for (const replicas of targets) for (const r of replicas) if (count.has(r)) count.set(r, count.get(r)! + 1);
  const movable = partitions.map((p, i) => i).filter((i) => partitions[i].movable);

  // Pass 1: replica counts.
  for (;;) {
    const byCount = [...count].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    let moved = false;
    // The busiest broker first, the idlest receiver first: the first feasible pair moves.
    for (let h = 0; h < byCount.length && !moved; h++) {
      for (let l = byCount.length - 1; l > h && !moved; l--) {
        const [from, high] = byCount[h];
        const [to, low] = byCount[l];
        if (high - low < 2) break;
        let best = -1;
        for (const i of movable) {
          const replicas = targets[i];
          const at = replicas.indexOf(from);
          if (at < 0 || replicas.includes(to)) continue;
          const next = replicas.map((r) => (r === from ? to : r));
          if (rackAware && racksOf(next) < racksOf(replicas)) continue;
          // A follower before a leader; then the partition moved least so far (fewest changes).
          if (best < 0 || (targets[best].indexOf(from) === 0 && at > 0)) best = i;
          if (at > 0) break;
        }
        if (best < 0) continue;
        targets[best] = targets[best].map((r) => (r === from ? to : r));
        count.set(from, count.get(from)! - 1);
        count.set(to, count.get(to)! + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }

  // Pass 2: preferred leaders.
  const leads = new Map(brokers.map((b) => [b.id, 0]));
  for (const replicas of targets) if (leads.has(replicas[0])) leads.set(replicas[0], leads.get(replicas[0])! + 1);
  for (;;) {
    let swapped = false;
    const byLeads = [...leads].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [busy, led] of byLeads) {
      for (const i of movable) {
        const replicas = targets[i];
        if (replicas[0] !== busy) continue;
        const other = replicas.slice(1).find((r) => (leads.get(r) ?? Infinity) <= led - 2);
        if (other === undefined) continue;
        targets[i] = [other, ...replicas.filter((r) => r !== other)];
        leads.set(busy, led - 1);
        leads.set(other, leads.get(other)! + 1);
        swapped = true;
        break;
      }
      if (swapped) break;
    }
    if (!swapped) break;
  }

  const moves: PlannedMove[] = [];
  partitions.forEach((p, i) => {
    if (targets[i].some((r, at) => p.replicas[at] !== r)) moves.push({ topic: p.topic, partition: p.partition, replicas: [...p.replicas], target: targets[i] });
  });
  return moves;
}
