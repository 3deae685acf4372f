// Raft's messages and their wire codec. Any thread; no I/O.
//
// Messages are plain data so the state machine (raft-node.ts) stays pure and the simulation can
// drop, duplicate and reorder them. On the wire each is one cluster envelope (../envelope.ts)
// whose kind is the message type and whose body is a fixed-order array (never reorder the fields
// of a released version; add new ones at the end under a new RAFT_PROTOCOL_VERSION):
//
//   VOTE              [from, to, term, preVote, lastLogIndex, lastLogTerm]
//   VOTE_RESPONSE     [from, to, term, preVote, granted]
//   APPEND            [from, to, term, prevLogIndex, prevLogTerm, leaderCommit, sentAt, entries]
//                     entries: [[index, term, kind, data], ...]
//   APPEND_RESPONSE   [from, to, term, success, matchIndex, rejectedIndex, hintIndex, sentAt]
//   SNAPSHOT          [from, to, term, lastIndex, lastTerm, sentAt, data]
//   SNAPSHOT_RESPONSE [from, to, term, matchIndex, sentAt]
//
// `sentAt` is the leader's tick count when it sent the request, echoed in the response: the leader
// lease (raft-node.ts) starts when a request was sent, not when its answer arrived.
// A snapshot travels in one message: the metadata state is kilobytes to a few megabytes, well
// under the TCP transport's frame limit, so chunking would add states without need.

import { decodeEnvelope, encodeEnvelope, isBytes, isUint, type DecodedEnvelope } from '../envelope.js';

export const RAFT_PROTOCOL_VERSION = 1;

export const MessageKind = Object.freeze({
  VOTE: 1,
  VOTE_RESPONSE: 2,
  APPEND: 3,
  APPEND_RESPONSE: 4,
  SNAPSHOT: 5,
  SNAPSHOT_RESPONSE: 6,
});

/** What a log entry holds: a leader's no-op (committed at the start of each term) or a command. */
export const EntryKind = Object.freeze({ NOOP: 0, COMMAND: 1 });
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly kind: EntryKind;
  /** The command, opaque to Raft (metadata commands are msgpackr bytes); empty for a no-op. */
  readonly data: Uint8Array;
}

interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly term: number;
}

export interface VoteRequest extends Envelope {
  readonly type: 'vote';
  /** A pre-vote asks "would you vote for me at `term`?" without anyone changing their term. */
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface VoteResponse extends Envelope {
  readonly type: 'vote-response';
  readonly preVote: boolean;
  readonly granted: boolean;
}

export interface AppendRequest extends Envelope {
  readonly type: 'append';
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly leaderCommit: number;
  readonly sentAt: number;
  readonly entries: readonly LogEntry[];
}

export interface AppendResponse extends Envelope {
  readonly type: 'append-response';
  readonly success: boolean;
  /** On success: the last index known to match the leader's log. */
  readonly matchIndex: number;
  /** On rejection: the prevLogIndex that did not match (to recognise stale rejections). */
  readonly rejectedIndex: number;
  /** On rejection: the leader should retry from hintIndex + 1. */
  readonly hintIndex: number;
  readonly sentAt: number;
}

export interface SnapshotRequest extends Envelope {
  readonly type: 'snapshot';
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly sentAt: number;
  readonly data: Uint8Array;
}

export interface SnapshotResponse extends Envelope {
  readonly type: 'snapshot-response';
  readonly matchIndex: number;
  readonly sentAt: number;
}

export type RaftMessage = VoteRequest | VoteResponse | AppendRequest | AppendResponse | SnapshotRequest | SnapshotResponse;

export type DecodedRaftMessage = { ok: true; message: RaftMessage } | Extract<DecodedEnvelope, { ok: false }>;

export function encodeRaftMessage(clusterId: string, m: RaftMessage): Uint8Array {
  const head = [m.from, m.to, m.term];
  switch (m.type) {
    case 'vote':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.VOTE, [...head, m.preVote, m.lastLogIndex, m.lastLogTerm]);
    case 'vote-response':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.VOTE_RESPONSE, [...head, m.preVote, m.granted]);
    case 'append':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.APPEND, [
        ...head,
        m.prevLogIndex,
        m.prevLogTerm,
        m.leaderCommit,
        m.sentAt,
        m.entries.map((e) => [e.index, e.term, e.kind, e.data]),
      ]);
    case 'append-response':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.APPEND_RESPONSE, [
        ...head,
        m.success,
        m.matchIndex,
        m.rejectedIndex,
        m.hintIndex,
        m.sentAt,
      ]);
    case 'snapshot':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.SNAPSHOT, [...head, m.lastIndex, m.lastTerm, m.sentAt, m.data]);
    case 'snapshot-response':
      return encodeEnvelope(clusterId, RAFT_PROTOCOL_VERSION, MessageKind.SNAPSHOT_RESPONSE, [...head, m.matchIndex, m.sentAt]);
  }
}

/** Decodes and validates one frame; anything unexpected is reported as malformed, never thrown. */
export function decodeRaftMessage(bytes: Uint8Array, clusterId: string): DecodedRaftMessage {
  const envelope = decodeEnvelope(bytes, clusterId, RAFT_PROTOCOL_VERSION);
  if (!envelope.ok) return envelope;
  const message = parseBody(envelope.kind, envelope.body);
  return message === null ? { ok: false, reason: 'malformed' } : { ok: true, message };
}

function parseBody(kind: number, body: unknown): RaftMessage | null {
  if (!Array.isArray(body) || body.length < 3 || !isUint(body[0]) || !isUint(body[1]) || !isUint(body[2])) return null;
  const [from, to, term] = body as number[];
  const b = body as unknown[];
  switch (kind) {
    case MessageKind.VOTE:
      if (b.length !== 6 || typeof b[3] !== 'boolean' || !isUint(b[4]) || !isUint(b[5])) return null;
      return { type: 'vote', from, to, term, preVote: b[3], lastLogIndex: b[4], lastLogTerm: b[5] };
    case MessageKind.VOTE_RESPONSE:
      if (b.length !== 5 || typeof b[3] !== 'boolean' || typeof b[4] !== 'boolean') return null;
      return { type: 'vote-response', from, to, term, preVote: b[3], granted: b[4] };
    case MessageKind.APPEND: {
      if (b.length !== 8 || !isUint(b[3]) || !isUint(b[4]) || !isUint(b[5]) || !isUint(b[6]) || !Array.isArray(b[7])) return null;
      const entries: LogEntry[] = [];
      for (const raw of b[7] as unknown[]) {
        const entry = parseEntry(raw);
        // Entries must follow prevLogIndex without gaps; anything else is not from a Raft leader.
        if (entry === null || entry.index !== b[3] + entries.length + 1) return null;
        entries.push(entry);
      }
      return { type: 'append', from, to, term, prevLogIndex: b[3], prevLogTerm: b[4], leaderCommit: b[5], sentAt: b[6], entries };
    }
    case MessageKind.APPEND_RESPONSE:
      if (b.length !== 8 || typeof b[3] !== 'boolean' || !isUint(b[4]) || !isUint(b[5]) || !isUint(b[6]) || !isUint(b[7])) return null;
      return { type: 'append-response', from, to, term, success: b[3], matchIndex: b[4], rejectedIndex: b[5], hintIndex: b[6], sentAt: b[7] };
    case MessageKind.SNAPSHOT:
      if (b.length !== 7 || !isUint(b[3]) || !isUint(b[4]) || !isUint(b[5]) || !isBytes(b[6])) return null;
      return { type: 'snapshot', from, to, term, lastIndex: b[3], lastTerm: b[4], sentAt: b[5], data: b[6] };
    case MessageKind.SNAPSHOT_RESPONSE:
      if (b.length !== 5 || !isUint(b[3]) || !isUint(b[4])) return null;
      return { type: 'snapshot-response', from, to, term, matchIndex: b[3], sentAt: b[4] };
    default:
      return null;
  }
}

function parseEntry(raw: unknown): LogEntry | null {
  if (!Array.isArray(raw) || raw.length !== 4) return null;
  const [index, term, kind, data] = raw as unknown[];
  if (!isUint(index) || index === 0 || !isUint(term) || (kind !== EntryKind.NOOP && kind !== EntryKind.COMMAND) || !isBytes(data)) {
    return null;
  }
  return { index, term, kind, data };
}
