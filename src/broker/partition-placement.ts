// Which worker owns each partition. Main thread only; workers learn their partitions from it.
//
// Partitions are spread evenly by count: each new partition goes to the worker owning the fewest
// (ties to the lowest index), so a topic's partitions land on different workers first and every
// core gets its share. Placement is not persisted: at start, topics are placed in name order,
// which gives the same result for the same topics and worker count.
//
// In a cluster a node hosts only some partitions of a topic, and they come and go one at a time
// as the metadata changes (assign/unassign); the owner lists then have holes.

export interface PartitionRef {
  topic: string;
  partition: number;
}

export class PartitionPlacement {
  readonly workers: number;
  private readonly owners = new Map<string, (number | undefined)[]>();
  private readonly load: number[];

  constructor(workers: number) {
    if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
    this.workers = workers;
    this.load = new Array(workers).fill(0);
  }

  /** Places every partition of a new topic; returns the owner of each, by partition. */
  place(topic: string, partitions: number): readonly number[] {
    if (this.owners.has(topic)) throw new Error(`topic ${topic} is already placed`);
    const owners: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const best = this.leastLoaded();
      owners.push(best);
      this.load[best]++;
    }
    this.owners.set(topic, owners);
    return owners;
  }

  private leastLoaded(): number {
    let best = 0;
    for (let w = 1; w < this.workers; w++) if (this.load[w] < this.load[best]) best = w;
    return best;
  }

  /** Places one partition (the cluster's view adds them one by one); returns its owner. */
  assign(topic: string, partition: number): number {
    let owners = this.owners.get(topic);
    if (owners === undefined) {
      owners = [];
      this.owners.set(topic, owners);
    }
    const held = owners[partition];
    if (held !== undefined) return held;
    const best = this.leastLoaded();
    owners[partition] = best;
    this.load[best]++;
    return best;
  }

  /** Forgets one partition (moved to another node); the topic goes when its last one does. */
  unassign(topic: string, partition: number): void {
    const owners = this.owners.get(topic);
    const held = owners?.[partition];
    if (owners === undefined || held === undefined) return;
    this.load[held]--;
    owners[partition] = undefined;
    if (owners.every((o) => o === undefined)) this.owners.delete(topic);
  }

  /** The worker that owns a partition, or undefined for an unknown topic or partition. */
  owner(topic: string, partition: number): number | undefined {
    return this.owners.get(topic)?.[partition];
  }

  /** Forgets a deleted topic. */
  remove(topic: string): void {
    for (const worker of this.owners.get(topic) ?? []) if (worker !== undefined) this.load[worker]--;
    this.owners.delete(topic);
  }

  /** The partitions a worker owns (to reopen them on a replacement worker). */
  partitionsOf(worker: number): PartitionRef[] {
    const refs: PartitionRef[] = [];
    for (const [topic, owners] of this.owners) {
      owners.forEach((w, partition) => {
        if (w === worker) refs.push({ topic, partition });
      });
    }
    return refs;
  }

  /** Groups items by the worker that owns their partition; items of unknown partitions apart. */
  groupByOwner<T extends PartitionRef>(items: readonly T[]): { bySlot: Map<number, T[]>; unknown: T[] } {
    const bySlot = new Map<number, T[]>();
    const unknown: T[] = [];
    for (const item of items) {
      const slot = this.owner(item.topic, item.partition);
      if (slot === undefined) {
        unknown.push(item);
        continue;
      }
      const group = bySlot.get(slot);
      if (group === undefined) bySlot.set(slot, [item]);
      else group.push(item);
    }
    return { bySlot, unknown };
  }

  /** Partitions per worker. */
  counts(): readonly number[] {
    return this.load;
  }
}
