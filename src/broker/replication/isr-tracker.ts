// The leader's view of its followers for one partition: each follower's log end and when it was
// last caught up, the in-sync replica set, and the high watermark. Worker thread only (the
// partition's owner, where its leader log lives). Plain data and arithmetic: no I/O, no timers.
//
// Caught up (Kafka's Replica.updateFetchState): a fetch at or beyond the leader's log end makes the
// follower caught up now; a fetch at or beyond the leader's log end as of the follower's previous
// fetch makes it caught up as of that previous fetch. A follower not caught up for
// replica.lag.time.max.ms leaves the ISR; one whose log end reaches the high watermark (and the
// start of the leader's epoch) joins it again.
//
// ISR changes go through the controller: the tracker only proposes them (shrinkCandidates,
// expandCandidates) and learns the committed ISR back (setIsr). While a change is out, the high
// watermark counts the larger of the two sets (Kafka's "maximal ISR"): a joiner counts at once, a
// leaver until the controller agrees — so the high watermark never passes a record that a replica
// the controller could elect lacks.

export interface FollowerProgress {
  /** -1 until the follower's first fetch. */
  logEndOffset: number;
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end when this follower last fetched. */
  lastFetchLeaderLogEnd: number;
}

export interface IsrTrackerOptions {
  self: number;
  replicas: readonly number[];
  isr: readonly number[];
  /** Where this leader's epoch began: a follower must reach it before rejoining. */
  epochStartOffset: number;
  /** The high watermark this replica knew before leading (it never moves back). */
  highWatermark: number;
  now: number;
}

export class IsrTracker {
  readonly self: number;
  private assigned: readonly number[];
  private committed: readonly number[];
  private pending: readonly number[] | null = null;
  private readonly followers = new Map<number, FollowerProgress>();
  private readonly epochStartOffset: number;
  private hw: number;

  constructor(options: IsrTrackerOptions) {
    this.self = options.self;
    this.assigned = options.replicas;
    this.committed = options.isr.includes(options.self) ? options.isr : [options.self, ...options.isr];
    this.epochStartOffset = options.epochStartOffset;
    this.hw = options.highWatermark;
    // A follower is given a full lag window from the moment this replica leads.
    for (const r of options.replicas) {
      if (r !== options.self) this.followers.set(r, { logEndOffset: -1, lastCaughtUpMs: options.now, lastFetchMs: options.now, lastFetchLeaderLogEnd: -1 });
    }
  }

  get replicas(): readonly number[] {
    return this.assigned;
  }

  /**
   * The replica set changed within the epoch (a reassignment adds or removes replicas): a new
   * follower starts with a full lag window, as at the start of an epoch; a removed one is forgotten.
   */
  setReplicas(replicas: readonly number[], now: number): void {
    this.assigned = replicas;
    for (const r of replicas) {
      if (r !== this.self && !this.followers.has(r)) this.followers.set(r, { logEndOffset: -1, lastCaughtUpMs: now, lastFetchMs: now, lastFetchLeaderLogEnd: -1 });
    }
    for (const r of [...this.followers.keys()]) if (!replicas.includes(r)) this.followers.delete(r);
  }

  /** The ISR the controller has committed. */
  get isr(): readonly number[] {
    return this.committed;
  }

  /** The ISR change proposed and not yet committed, if any. */
  get pendingIsr(): readonly number[] | null {
    return this.pending;
  }

  get highWatermark(): number {
    return this.hw;
  }

  follower(id: number): FollowerProgress | undefined {
    return this.followers.get(id);
  }

  /** A follower fetched from `fetchOffset` (so it holds everything below it). */
  onFollowerFetch(id: number, fetchOffset: number, leaderLogEnd: number, now: number): void {
    const f = this.followers.get(id);
    if (f === undefined) return;
    if (fetchOffset >= leaderLogEnd) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, now);
    else if (fetchOffset >= f.lastFetchLeaderLogEnd && f.lastFetchLeaderLogEnd >= 0) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.logEndOffset = fetchOffset;
    f.lastFetchLeaderLogEnd = leaderLogEnd;
    f.lastFetchMs = now;
  }

  /** Recomputes the high watermark; returns true when it moved (it only moves forward). */
  updateHighWatermark(leaderLogEnd: number): boolean {
    let min = leaderLogEnd;
    for (const r of this.maximalIsr()) {
      if (r === this.self) continue;
      const end = this.followers.get(r)?.logEndOffset ?? -1;
      if (end < 0) return false;
      min = Math.min(min, end);
    }
    if (min <= this.hw) return false;
    this.hw = min;
    return true;
  }

  private maximalIsr(): readonly number[] {
    if (this.pending === null) return this.committed;
    return [...new Set([...this.committed, ...this.pending])];
  }

  /** ISR members (other than the leader) not caught up within `lagTimeMaxMs`. */
  shrinkCandidates(now: number, lagTimeMaxMs: number): number[] {
    return this.committed.filter((r) => r !== this.self && now - (this.followers.get(r)?.lastCaughtUpMs ?? -Infinity) > lagTimeMaxMs);
  }

  /** Replicas outside the ISR whose log end has reached the high watermark and this epoch's start. */
  expandCandidates(): number[] {
    return this.replicas.filter((r) => {
      if (this.committed.includes(r)) return false;
      const end = this.followers.get(r)?.logEndOffset ?? -1;
      return end >= this.hw && end >= this.epochStartOffset;
    });
  }

  /** Marks `isr` as proposed to the controller (while out, the high watermark counts both sets). */
  propose(isr: readonly number[]): void {
    this.pending = isr;
  }

  /** The controller committed `isr` (or refused the proposal: pass the committed ISR it holds). */
  setIsr(isr: readonly number[]): void {
    this.committed = isr;
    this.pending = null;
  }
}
