// The data a Raft node is made of and hands out, shared by the node, its log and its storage: the
// hard state, snapshots, what a restart loads, the output contract, the configuration. Any thread
// (plain data); used by the RaftNode's thread only.

import type { LogEntry, RaftMessage } from './messages.js';
import type { Random } from '../random.js';

export type RaftRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** The state a voter must never forget: its term and whom it voted for in that term. */
export interface HardState {
  readonly term: number;
  readonly votedFor: number | null;
}

export interface Snapshot {
  /** The last log index the snapshot covers (0: none). */
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** The state machine's own serialization, opaque to Raft. */
  readonly data: Uint8Array;
}

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({ lastIndex: 0, lastTerm: 0, data: new Uint8Array(0) });

/** What a node restarts from: exactly what raft-storage.ts kept. */
export interface DurableState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  /** Entries after snapshot.lastIndex, contiguous. */
  readonly entries: readonly LogEntry[];
}

export const EMPTY_DURABLE_STATE: DurableState = Object.freeze({
  hardState: Object.freeze({ term: 0, votedFor: null }),
  snapshot: EMPTY_SNAPSHOT,
  entries: Object.freeze([]) as readonly LogEntry[],
});

export interface RaftOutput {
  /** Set when term or vote changed. */
  hardState: HardState | null;
  /** A snapshot to store; entries up to its lastIndex are to be dropped from the stored log. */
  snapshot: Snapshot | null;
  /** Drop stored entries with index >= truncateFrom (before appending). */
  truncateFrom: number | null;
  append: LogEntry[];
  messages: RaftMessage[];
  /** A snapshot received from the leader: replace the state machine with it before `committed`. */
  restore: Snapshot | null;
  committed: LogEntry[];
}

export interface RaftConfig {
  readonly id: number;
  readonly voters: readonly number[];
  /** Minimum election timeout in ticks; each timeout is drawn from [electionTicks, 2 * electionTicks). */
  readonly electionTicks?: number;
  /** Ticks between heartbeats; well below electionTicks. */
  readonly heartbeatTicks?: number;
  /** How long a quorum's acknowledgement keeps the lease; below electionTicks to absorb clock drift. */
  readonly leaseTicks?: number;
  readonly maxEntriesPerAppend?: number;
  readonly maxBytesPerAppend?: number;
  readonly preVote?: boolean;
  readonly random: Random;
}

export const RAFT_DEFAULTS = Object.freeze({
  electionTicks: 10,
  heartbeatTicks: 1,
  maxEntriesPerAppend: 512,
  // One append stays well under the TCP transport's frame limit.
  maxBytesPerAppend: 1 << 20,
});

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; leaderId: number | null };

export function emptyOutput(): RaftOutput {
  return { hardState: null, snapshot: null, truncateFrom: null, append: [], messages: [], restore: null, committed: [] };
}
