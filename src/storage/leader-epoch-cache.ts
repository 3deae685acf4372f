// Leader epochs of one partition's log: the offset at which each epoch's first batch sits, kept in
// memory and in the leader-epoch checkpoint file (leader-epoch-checkpoint.ts). Owner thread only.
//
// It answers "where does epoch E end in this log?" (OffsetsForLeaderEpoch, as Kafka's
// LeaderEpochFileCache.endOffsetFor): a follower that was leader, or followed an older leader, asks
// the current leader that question for its own latest epoch and truncates what lies beyond the
// answer — the suffix the new leader never had — before fetching again.
//
// Crash stance: the file may be behind or ahead of the log after a crash (it is written after an
// append that starts an epoch, and after a truncation of the log). Opening clamps it to the log:
// entries at or beyond the log end are dropped (a truncation that did not reach the file), and an
// epoch whose first batch was appended but not recorded is found again by scanning batch headers
// from the last entry on (PartitionLog does that scan).

import { readLeaderEpochCheckpoint, writeLeaderEpochCheckpoint, type EpochEntry } from './leader-epoch-checkpoint.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEndOffset {
  /** The largest epoch <= the one asked for that this log knows, or UNDEFINED_EPOCH. */
  epoch: number;
  /** The first offset after that epoch's records here, or UNDEFINED_EPOCH_OFFSET. */
  endOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[];
  private readonly dir: string;

  private constructor(dir: string, entries: EpochEntry[]) {
    this.dir = dir;
    this.entries = entries;
  }

  /** Reads the checkpoint; `problem` is set when it must be rebuilt from the log (see rebuild()). */
  static open(dir: string): { cache: LeaderEpochCache; problem: string | null } {
    const read = readLeaderEpochCheckpoint(dir);
    if ('problem' in read) return { cache: new LeaderEpochCache(dir, []), problem: read.problem };
    return { cache: new LeaderEpochCache(dir, read), problem: null };
  }

  /** All entries, oldest first (a copy). */
  list(): EpochEntry[] {
    return [...this.entries];
  }

  get latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  /** Start offset of the latest epoch, or UNDEFINED_EPOCH_OFFSET. */
  get latestStartOffset(): number {
    return this.entries[this.entries.length - 1]?.startOffset ?? UNDEFINED_EPOCH_OFFSET;
  }

  /**
   * Records that `epoch` starts at `startOffset`; returns whether anything changed. An epoch not
   * above the latest is ignored; entries starting at or after `startOffset` are replaced (they
   * describe records that are gone). `persist` false batches a rebuild into one write.
   */
  assign(epoch: number, startOffset: number, persist = true): boolean {
    if (epoch < 0) return false;
    const latest = this.entries[this.entries.length - 1];
    if (latest !== undefined && epoch <= latest.epoch) return false;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1].startOffset >= startOffset) this.entries.pop();
    this.entries.push({ epoch, startOffset });
    if (persist) this.persist();
    return true;
  }

  /** Kafka's endOffsetFor: see EpochEndOffset. `logEndOffset` answers for the latest epoch. */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset {
    if (epoch === UNDEFINED_EPOCH || this.entries.length === 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (epoch === this.latestEpoch) return { epoch, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > epoch);
    if (higher === -1) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const floor = higher === 0 ? undefined : this.entries[higher - 1];
    return { epoch: floor?.epoch ?? epoch, endOffset: this.entries[higher].startOffset };
  }

  /** The epoch the record at `offset` was written in (UNDEFINED_EPOCH before the first entry). */
  epochAt(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /** Drops entries for records at or above `offset` (log truncation); returns whether any went. */
  truncateFromEnd(offset: number, persist = true): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < offset);
    const changed = this.entries.length !== before;
    if (changed && persist) this.persist();
    return changed;
  }

  /** Retention moved the log start: the epoch holding `offset` now starts there. */
  truncateFromStart(offset: number): void {
    const keepFrom = this.entries.findIndex((e, i) => e.startOffset >= offset || i === this.entries.length - 1 || this.entries[i + 1].startOffset > offset);
    if (keepFrom <= 0 && (this.entries[0]?.startOffset ?? offset) >= offset) return;
    const kept = this.entries.slice(keepFrom);
    if (kept.length > 0 && kept[0].startOffset < offset) kept[0] = { epoch: kept[0].epoch, startOffset: offset };
    this.entries = kept;
    this.persist();
  }

  /** Forgets everything (the log was emptied and restarts elsewhere). */
  clear(persist = true): void {
    this.entries = [];
    if (persist) this.persist();
  }

  persist(): void {
    writeLeaderEpochCheckpoint(this.dir, this.entries);
  }
}
