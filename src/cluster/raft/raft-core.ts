// The state a Raft node is made of and the bookkeeping every part of it shares: terms, the log,
// the commit and apply indexes, each peer's progress, and the output the driver drains (see
// raft-node.ts for the output contract). RaftReplication (raft-replication.ts) builds on it, and
// RaftNode (raft-node.ts: inputs and elections) on that. Pure, no I/O. Main thread only (whichever
// thread owns the RaftServer that drives it).

import { type EntryKind, type LogEntry, type RaftMessage } from './messages.js';
import { RaftLog } from './raft-log.js';
import type { Progress } from './progress.js';
import { EMPTY_DURABLE_STATE, RAFT_DEFAULTS, emptyOutput, type DurableState, type RaftConfig, type RaftOutput, type RaftRole } from './raft-state.js';

export abstract class RaftCore {
  readonly id: number;
  readonly voters: readonly number[];
  /** The other voters: they vote and count towards commits. */
  protected readonly peers: readonly number[];
  /** Non-voters the leader replicates to (setLearners). */
  protected learnerIds: readonly number[] = [];
  protected readonly quorum: number;
  protected readonly maxEntries: number;
  protected readonly maxBytes: number;

  protected currentTerm: number;
  protected votedFor: number | null;
  protected readonly log: RaftLog;
  protected commit: number;
  protected applied: number;

  protected currentRole: RaftRole = 'follower';
  protected leader: number | null = null;
  /** Logical time: ticks since this node started. */
  protected now = 0;
  protected readonly progress = new Map<number, Progress>();

  protected out: RaftOutput = emptyOutput();

  constructor(config: RaftConfig, durable: DurableState = EMPTY_DURABLE_STATE) {
    this.id = config.id;
    this.voters = [...new Set(config.voters)].sort((a, b) => a - b);
    this.peers = this.voters.filter((v) => v !== this.id);
    this.quorum = Math.floor(this.voters.length / 2) + 1;
    this.maxEntries = config.maxEntriesPerAppend ?? RAFT_DEFAULTS.maxEntriesPerAppend;
    this.maxBytes = config.maxBytesPerAppend ?? RAFT_DEFAULTS.maxBytesPerAppend;
    this.currentTerm = durable.hardState.term;
    this.votedFor = durable.hardState.votedFor;
    this.log = new RaftLog(durable.snapshot, durable.entries);
    this.commit = this.log.snapshotIndex;
    this.applied = this.log.snapshotIndex;
  }

  // --- observers -----------------------------------------------------------------------------------

  get term(): number {
    return this.currentTerm;
  }
  get role(): RaftRole {
    return this.currentRole;
  }
  /** The leader of the current term as far as this node knows, or null. */
  get leaderId(): number | null {
    return this.leader;
  }
  get commitIndex(): number {
    return this.commit;
  }
  get lastIndex(): number {
    return this.log.lastIndex;
  }
  get snapshotIndex(): number {
    return this.log.snapshotIndex;
  }
  get isVoter(): boolean {
    return this.voters.includes(this.id);
  }

  get learners(): readonly number[] {
    return this.learnerIds;
  }

  /** Voters and learners other than this node: everyone a leader replicates to. */
  protected get targets(): readonly number[] {
    return this.learnerIds.length === 0 ? this.peers : [...this.peers, ...this.learnerIds];
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the log. */
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** The entry at `index`, or undefined when compacted away or beyond the log. */
  entryAt(index: number): LogEntry | undefined {
    return this.log.entryAt(index);
  }

  // --- log and output ------------------------------------------------------------------------------

  protected appendLocal(kind: EntryKind, data: Uint8Array): LogEntry {
    const entry: LogEntry = { index: this.lastIndex + 1, term: this.currentTerm, kind, data };
    this.appendEntry(entry);
    return entry;
  }

  protected appendEntry(entry: LogEntry): void {
    this.log.append(entry);
    this.out.append.push(entry);
  }

  protected truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    this.out.append = this.out.append.filter((e) => e.index < index);
    this.out.truncateFrom = this.out.truncateFrom === null ? index : Math.min(this.out.truncateFrom, index);
  }

  protected applyCommitted(): void {
    while (this.applied < this.commit) {
      this.applied++;
      this.out.committed.push(this.entryAt(this.applied)!);
    }
  }

  protected saveHardState(): void {
    this.out.hardState = { term: this.currentTerm, votedFor: this.votedFor };
  }

  protected send(message: RaftMessage): void {
    this.out.messages.push(message);
  }
}
