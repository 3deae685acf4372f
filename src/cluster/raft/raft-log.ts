// A Raft node's log in memory: the latest snapshot and the entries after it. Main thread only (the
// RaftNode's). Pure data handling; what reaches the disk is the node's output (raft-node.ts), made
// durable by raft-storage.ts before anything that depends on it leaves the node.
//
// Indexes are Raft's: 1-based and contiguous; `snapshot.lastIndex` is the last index the snapshot
// covers (0: none), and entries[i] holds index snapshot.lastIndex + 1 + i.

import type { LogEntry } from './messages.js';
import type { Snapshot } from './raft-state.js';

export class RaftLog {
  private snap: Snapshot;
  private entries: LogEntry[];

  constructor(snapshot: Snapshot, entries: readonly LogEntry[]) {
    this.snap = snapshot;
    this.entries = entries.slice();
    for (let i = 0; i < this.entries.length; i++) {
      if (this.entries[i].index !== this.snap.lastIndex + 1 + i) throw new Error('durable log entries are not contiguous after the snapshot');
    }
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  get snapshotIndex(): number {
    return this.snap.lastIndex;
  }

  get lastIndex(): number {
    return this.snap.lastIndex + this.entries.length;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the log. */
  termAt(index: number): number | undefined {
    if (index === this.snap.lastIndex) return this.snap.lastTerm;
    if (index < this.snap.lastIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.snap.lastIndex - 1].term;
  }

  /** The entry at `index`, or undefined when compacted away or beyond the log. */
  entryAt(index: number): LogEntry | undefined {
    if (index <= this.snap.lastIndex || index > this.lastIndex) return undefined;
    return this.entries[index - this.snap.lastIndex - 1];
  }

  /** Appends the next entry (its index must be lastIndex + 1). */
  append(entry: LogEntry): void {
    this.entries.push(entry);
  }

  /** Drops the entries from `index` on. */
  truncateFrom(index: number): void {
    this.entries.length = Math.max(0, index - this.snap.lastIndex - 1);
  }

  /** Replaces the entries up to `index` (which must be in the log) by a snapshot taken there. */
  compact(index: number, data: Uint8Array): Snapshot {
    const lastTerm = this.termAt(index)!;
    this.entries = this.entries.slice(index - this.snap.lastIndex);
    this.snap = { lastIndex: index, lastTerm, data };
    return this.snap;
  }

  /**
   * Installs a leader's snapshot: entries it covers go; a suffix after it survives only if our
   * entry at its last index has its term (then the suffix matches the leader's log, Raft 7).
   */
  install(snapshot: Snapshot): void {
    if (this.termAt(snapshot.lastIndex) === snapshot.lastTerm) this.entries = this.entries.slice(snapshot.lastIndex - this.snap.lastIndex);
    else this.entries = [];
    this.snap = snapshot;
  }
}
