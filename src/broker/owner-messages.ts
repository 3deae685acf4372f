// The messages the main thread and a partition owner exchange over a slot's rings. Any thread.
//
// Ring entry layout (both directions):
//   offset size field
//        0    4 requestId    chosen by the main thread; the owner echoes it
//        4    1 kind         Produce, Fetch, ListOffsets, EndWait or Group (see OwnerKind)
//        5    4 metaLength
//        9    …  meta        the kind's request or result fields (below): a fixed binary layout
//                            for Produce, Fetch, ReplicaFetch and EndWait (owner-meta-codec.ts),
//                            else msgpack
//        …    …  body        Produce requests only: the record set, as the client sent it
//
// Written with tryWriteParts([prefix + meta, body]), so a produce's records are copied once: from
// the socket's buffer into the ring. Fetch results carry no bytes at all, only where the bytes
// are (file, position, length): the main thread sends them from its own mapping.

import { Packr } from 'msgpackr';
import { readUint32, writeInt32 } from '../storage/bytes.js';
import {
  MetaWriter,
  readEndWait,
  readFetchMeta,
  readFetchResult,
  readProduceMeta,
  readProduceResult,
  readReplicaFetchMeta,
  writeEndWait,
  writeFetchMeta,
  writeFetchResult,
  writeProduceMeta,
  writeProduceResult,
  writeReplicaFetchMeta,
} from './owner-meta-codec.js';

export enum OwnerKind {
  Produce = 1,
  Fetch = 2,
  ListOffsets = 3,
  /**
   * Main thread to owner, never answered: end the long poll of fetch `requestId` now (the other
   * owners of a multi-owner fetch already have minBytes), so that it answers with what it has.
   */
  EndWait = 4,
  /**
   * A consumer-group request (JoinGroup .. DeleteGroups) for a group this owner coordinates; meta
   * is GroupRequestMeta (api key, validated header, client host), the answer GroupResultMeta.
   */
  Group = 5,
  /** A follower's ReplicaFetch for partitions this owner hosts; meta ReplicaFetchMeta, answered like Fetch. */
  ReplicaFetch = 6,
  /** OffsetForLeaderEpoch for partitions this owner hosts; meta OffsetForLeaderEpochRequest. */
  OffsetForLeaderEpoch = 7,
}

export const PREFIX_BYTES = 9;

export interface ProduceMeta {
  topic: string;
  partition: number;
  /** -1: all in-sync replicas (replicated partitions). */
  acks: 0 | 1 | -1;
  /** How long an acks=all produce may wait for replication. */
  timeoutMs?: number;
}

export interface FetchPartitionMeta {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
}

export interface FetchMeta {
  partitions: FetchPartitionMeta[];
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

export interface EndWaitMeta {
  requestId: number;
}

export interface ListOffsetsMeta {
  partitions: { topic: string; partition: number; timestamp: number }[];
}

/** A failure as data: only codes and messages cross threads, never Error objects. */
export interface ErrorResult {
  errorCode: number;
  message?: string;
}

export interface ProduceResultMeta extends ErrorResult {
  baseOffset: number;
  logStartOffset: number;
}

/** A ReplicaFetch narrowed to one owner's partitions (ReplicaFetchRequest's fields). */
export interface ReplicaFetchMeta {
  replicaId: number;
  partitions: { topic: string; partition: number; leaderEpoch: number; fetchOffset: number; maxBytes: number }[];
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

export interface FetchPartitionResult extends ErrorResult {
  topic: string;
  partition: number;
  highWatermark: number;
  logStartOffset: number;
  /** Where the batches are; null with length 0 when there are none. */
  file: string | null;
  /** Inode of `file` when the owner read it (0 with no file): SegmentMappings serves only that file. */
  fileId: number;
  position: number;
  length: number;
  /** ReplicaFetch answers: the leader's log end. */
  logEndOffset?: number;
}

export interface FetchResultMeta extends ErrorResult {
  partitions: FetchPartitionResult[];
}

export interface ListOffsetsResultMeta extends ErrorResult {
  partitions: (ErrorResult & { topic: string; partition: number; offset: number; timestamp: number })[];
}

export interface GroupResultMeta extends ErrorResult {
  /** The api's response header, when errorCode is NONE. */
  response?: unknown;
}

export interface OwnerMessage<M> {
  requestId: number;
  kind: OwnerKind;
  meta: M;
  /** Produce requests: the record set (a view into the ring entry, valid only while draining). */
  body: Uint8Array;
}

// The hot kinds (a produce, a fetch and a follower's fetch, both ways, and EndWait) have fixed
// binary layouts (owner-meta-codec.ts); the rest are msgpack maps of plain objects with fixed keys.
// copyBuffers: a binary field must not stay a view into the scratch copy below (or the ring).
const packr = new Packr({ useRecords: false, copyBuffers: true });

interface MetaCodec {
  write(writer: MetaWriter, meta: never): void;
  read(bytes: Uint8Array): unknown;
}

const requestCodecs: Partial<Record<OwnerKind, MetaCodec>> = {
  [OwnerKind.Produce]: { write: writeProduceMeta, read: readProduceMeta },
  [OwnerKind.Fetch]: { write: writeFetchMeta, read: readFetchMeta },
  [OwnerKind.ReplicaFetch]: { write: writeReplicaFetchMeta, read: readReplicaFetchMeta },
  [OwnerKind.EndWait]: { write: writeEndWait, read: readEndWait },
};

const resultCodecs: Partial<Record<OwnerKind, MetaCodec>> = {
  [OwnerKind.Produce]: { write: writeProduceResult, read: readProduceResult },
  [OwnerKind.Fetch]: { write: writeFetchResult, read: readFetchResult },
  [OwnerKind.ReplicaFetch]: { write: writeFetchResult, read: readFetchResult },
};

/**
 * msgpack meta is unpacked from a copy in this thread's own memory, not from the ring: msgpackr's
 * native string extraction refuses a SharedArrayBuffer by throwing, which it catches before
 * decoding in JS, and that throw (an Error with a stack) cost ~12 us per message with several
 * strings - 16 us against 3.5 us from a plain buffer.
 */
let scratch = Buffer.allocUnsafeSlow(4096);

function unpackMeta(bytes: Uint8Array): unknown {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) return packr.unpack(bytes);
  if (bytes.length > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(bytes.length, scratch.length * 2));
  scratch.set(bytes);
  return packr.unpack(scratch.subarray(0, bytes.length));
}

/** One writer per thread: encoded prefixes live in it until the next encoding. */
const writer = new MetaWriter();

function encode(codecs: Partial<Record<OwnerKind, MetaCodec>>, requestId: number, kind: OwnerKind, meta: unknown, body: Uint8Array | undefined): Uint8Array[] {
  writer.reset(PREFIX_BYTES);
  const codec = codecs[kind];
  if (codec === undefined) writer.raw(packr.pack(meta));
  else codec.write(writer, meta as never);
  const head = writer.bytes();
  writeInt32(head, 0, requestId);
  head[4] = kind;
  writeInt32(head, 5, head.length - PREFIX_BYTES);
  return body === undefined || body.length === 0 ? [head] : [head, body];
}

function decode<M>(codecs: Partial<Record<OwnerKind, MetaCodec>>, entry: Uint8Array): OwnerMessage<M> {
  if (entry.length < PREFIX_BYTES) throw new Error(`owner message of ${entry.length} bytes is shorter than its prefix`);
  const metaLength = readUint32(entry, 5);
  if (PREFIX_BYTES + metaLength > entry.length) throw new Error(`owner message meta of ${metaLength} bytes runs past the entry`);
  const kind = entry[4] as OwnerKind;
  const metaBytes = entry.subarray(PREFIX_BYTES, PREFIX_BYTES + metaLength);
  const codec = codecs[kind];
  return {
    requestId: readUint32(entry, 0),
    kind,
    meta: (codec === undefined ? unpackMeta(metaBytes) : codec.read(metaBytes)) as M,
    body: entry.subarray(PREFIX_BYTES + metaLength),
  };
}

/**
 * The parts of a request's ring entry: the prefix with meta, then the body (if any). The prefix
 * lives in this thread's encoding buffer: write the parts before the next encode call.
 */
export function encodeOwnerRequest(requestId: number, kind: OwnerKind, meta: unknown, body?: Uint8Array): Uint8Array[] {
  return encode(requestCodecs, requestId, kind, meta, body);
}

/** The parts of an owner's answer, valid as encodeOwnerRequest's are (until the next encode). */
export function encodeOwnerResult(requestId: number, kind: OwnerKind, meta: unknown): Uint8Array[] {
  return encode(resultCodecs, requestId, kind, meta, undefined);
}

/** Decodes a request entry; the body is a view into `entry`. Throws on a malformed entry (a bug). */
export function decodeOwnerRequest<M>(entry: Uint8Array): OwnerMessage<M> {
  return decode(requestCodecs, entry);
}

/** Decodes an answer entry. Throws on a malformed entry (a bug). */
export function decodeOwnerResult<M>(entry: Uint8Array): OwnerMessage<M> {
  return decode(resultCodecs, entry);
}
