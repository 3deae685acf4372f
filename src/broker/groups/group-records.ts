// The records a group coordinator writes to its __consumer_offsets partition, and reading them
// back. Any thread (written and replayed on the partition's owner; tools may read them too).
//
// Every record has a key naming what it is about and a value with its latest state, so the topic
// is compacted by key: only the last record per key matters, and a record with a null value (a
// tombstone) says the thing is gone.
//
//   key (msgpack array)                         value (msgpack map), or null = deleted
//   [OFFSET_KEY, groupId, topic, partition]     { offset, metadata, commitTimestamp }
//   [GROUP_KEY, groupId]                        GroupRecord: generation, protocol, leader, members
//
// Replay applies the records in log order; whatever is newest wins, which is also all that
// compaction keeps. A record this version cannot read is skipped with a warning by the caller
// (a newer broker may have written it).

import { Packr } from 'msgpackr';
import type { Subscription, TopicPartitions } from '../../protocol/index.js';

export const OFFSET_KEY = 1;
export const GROUP_KEY = 2;

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestamp: number;
}

export interface MemberRecord {
  memberId: string;
  groupInstanceId?: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: string[];
  subscription: Subscription;
  assignment: TopicPartitions[];
}

export interface GroupRecord {
  protocolType: string;
  protocolName: string;
  generationId: number;
  leader: string;
  members: MemberRecord[];
}

export type GroupLogEntry =
  | { kind: 'offset'; groupId: string; topic: string; partition: number; value: CommittedOffset | null }
  | { kind: 'group'; groupId: string; value: GroupRecord | null };

export interface KeyedRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

const packr = new Packr({ useRecords: false });

export function offsetRecord(groupId: string, topic: string, partition: number, value: CommittedOffset | null): KeyedRecord {
  return { key: packr.pack([OFFSET_KEY, groupId, topic, partition]), value: value === null ? null : packr.pack(value) };
}

export function groupRecord(groupId: string, value: GroupRecord | null): KeyedRecord {
  return { key: packr.pack([GROUP_KEY, groupId]), value: value === null ? null : packr.pack(value) };
}

/** Reads one record back; undefined for a key this version does not know. Throws on garbage. */
export function readGroupLogEntry(key: Uint8Array, value: Uint8Array | null): GroupLogEntry | undefined {
  const k = packr.unpack(key) as unknown[];
  if (!Array.isArray(k)) throw new Error('a __consumer_offsets key must be a msgpack array');
  if (k[0] === OFFSET_KEY && typeof k[1] === 'string' && typeof k[2] === 'string' && typeof k[3] === 'number') {
    return { kind: 'offset', groupId: k[1], topic: k[2], partition: k[3], value: value === null ? null : (packr.unpack(value) as CommittedOffset) };
  }
  if (k[0] === GROUP_KEY && typeof k[1] === 'string') {
    return { kind: 'group', groupId: k[1], value: value === null ? null : (packr.unpack(value) as GroupRecord) };
  }
  return undefined;
}

/** The key of a record as a string, for compaction's "latest per key" map. */
export function recordKeyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
}
