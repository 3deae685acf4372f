// Fixed-layout binary meta for the owner messages every produce and fetch sends: Produce, Fetch,
// ReplicaFetch and EndWait requests, Produce, Fetch and ReplicaFetch results. Any thread.
//
// Written by hand instead of msgpack because these cross the rings on every request: msgpackr took
// 1.5 us to unpack a produce's meta and 8-10 us for a 4-partition fetch or its answer (keys and
// strings rebuilt each time, ~3 KB of garbage per fetch on the main thread); this layout takes a
// fraction of that and allocates only the result objects. The other kinds stay msgpack.
//
// Layout: numbers are float64 little-endian (offsets and sizes pass 2^31), error codes int32;
// strings are a uint32 byte length and UTF-8, with NO_STRING for null or absent; an absent
// optional number is NaN. Lists are a uint32 count and their items.
//
//   ProduceMeta          topic, partition, acks, timeoutMs?
//   ProduceResultMeta    errorCode, message?, baseOffset, logStartOffset
//   FetchMeta            maxWaitMs, minBytes, maxBytes, count, { topic, partition, offset, maxBytes }*
//   ReplicaFetchMeta     replicaId, maxWaitMs, minBytes, maxBytes, count,
//                        { topic, partition, leaderEpoch, fetchOffset, maxBytes }*
//   FetchResultMeta      errorCode, message?, count, { errorCode, message?, topic, partition,
//                        highWatermark, logStartOffset, file|null, fileId, position, length,
//                        logEndOffset? }*
//   EndWaitMeta          requestId
//
// Decoding reads straight from the ring entry (a SharedArrayBuffer is fine here, unlike msgpackr's
// native string path) and reuses the strings it decoded before: topic names and segment paths
// repeat from one request to the next, so most of them cost a byte comparison, not an allocation.

import type { EndWaitMeta, FetchMeta, FetchPartitionMeta, FetchPartitionResult, FetchResultMeta, ProduceMeta, ProduceResultMeta, ReplicaFetchMeta } from './owner-messages.js';

const NO_STRING = 0xffffffff;

/** Appends fields to a growable buffer that encodings on this thread share. */
export class MetaWriter {
  private buffer = Buffer.allocUnsafeSlow(4096);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  pos = 0;

  /** Starts a new encoding, leaving `prefix` bytes for the caller to fill. */
  reset(prefix: number): void {
    this.pos = prefix;
  }

  /** The bytes written since reset(): valid until the next reset() on this writer. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.pos);
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  i32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, value, true);
    this.pos += 4;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** Bytes as they are (another encoding's output). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A string, or NO_STRING for null/undefined. */
  str(value: string | null | undefined): void {
    if (value === null || value === undefined) {
      this.u32(NO_STRING);
      return;
    }
    this.ensure(4 + value.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    const length = this.buffer.write(value, this.pos + 4, 'utf8');
    this.view.setUint32(this.pos, length, true);
    this.pos += 4 + length;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.pos + bytes));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}

/** Strings decoded before, by their bytes: direct-mapped, checked byte for byte on a hit. */
const CACHE_SLOTS = 256;
const cachedBytes: (Uint8Array | null)[] = new Array<Uint8Array | null>(CACHE_SLOTS).fill(null);
const cachedStrings: string[] = new Array<string>(CACHE_SLOTS).fill('');
/** Longer strings are decoded each time: comparing them would cost what decoding does. */
const CACHE_MAX_BYTES = 512;

/** Reads fields from one ArrayBuffer (a ring's memory or a plain buffer); one per buffer. */
class MetaReader {
  readonly view: DataView;
  readonly bytes: Buffer;
  pos = 0;

  constructor(buffer: ArrayBufferLike) {
    this.view = new DataView(buffer);
    this.bytes = Buffer.from(buffer);
  }

  f64(): number {
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  i32(): number {
    const value = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return value;
  }

  u32(): number {
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  /** A string, or null for NO_STRING. */
  str(): string | null {
    const length = this.u32();
    if (length === NO_STRING) return null;
    const start = this.pos;
    this.pos += length;
    if (this.pos > this.bytes.length) throw new RangeError(`owner meta string of ${length} bytes runs past the buffer`);
    if (length > CACHE_MAX_BYTES) return this.bytes.toString('utf8', start, this.pos);
    const bytes = this.bytes;
    // FNV-1a over every byte: paths differ only in a partition number or a base offset.
    let hash = 0x811c9dc5;
    for (let i = start; i < this.pos; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    const slot = (hash ^ (hash >>> 16)) & (CACHE_SLOTS - 1);
    const known = cachedBytes[slot];
    if (known !== null && known.length === length) {
      let i = 0;
      while (i < length && known[i] === bytes[start + i]) i++;
      if (i === length) return cachedStrings[slot];
    }
    const value = bytes.toString('utf8', start, this.pos);
    const copy = new Uint8Array(length); // a copy: the ring's memory is reused
    copy.set(bytes.subarray(start, this.pos));
    cachedBytes[slot] = copy;
    cachedStrings[slot] = value;
    return value;
  }

  /** A string that must be present. */
  name(): string {
    const value = this.str();
    if (value === null) throw new RangeError('owner meta: a required string is missing');
    return value;
  }

  /** NaN (absent) as undefined. */
  optionalF64(): number | undefined {
    const value = this.f64();
    return Number.isNaN(value) ? undefined : value;
  }
}

const readers = new WeakMap<ArrayBufferLike, MetaReader>();

/** A reader positioned at the start of `bytes`. */
function readerAt(bytes: Uint8Array): MetaReader {
  let reader = readers.get(bytes.buffer);
  if (reader === undefined) {
    reader = new MetaReader(bytes.buffer);
    readers.set(bytes.buffer, reader);
  }
  reader.pos = bytes.byteOffset;
  return reader;
}

/** Checks that a decoding used exactly the meta's bytes (a mismatch is a bug on one side). */
function finish<M>(reader: MetaReader, bytes: Uint8Array, what: string, meta: M): M {
  const used = reader.pos - bytes.byteOffset;
  if (used !== bytes.length) throw new RangeError(`${what} meta: decoded ${used} of its ${bytes.length} bytes`);
  return meta;
}

export function writeProduceMeta(w: MetaWriter, meta: ProduceMeta): void {
  w.str(meta.topic);
  w.f64(meta.partition);
  w.f64(meta.acks);
  w.f64(meta.timeoutMs ?? NaN);
}

export function readProduceMeta(bytes: Uint8Array): ProduceMeta {
  const r = readerAt(bytes);
  const topic = r.name();
  const partition = r.f64();
  const acks = r.f64() as ProduceMeta['acks'];
  const timeoutMs = r.optionalF64();
  return finish(r, bytes, 'produce', { topic, partition, acks, timeoutMs });
}

export function writeProduceResult(w: MetaWriter, meta: ProduceResultMeta): void {
  w.i32(meta.errorCode);
  w.str(meta.message);
  w.f64(meta.baseOffset);
  w.f64(meta.logStartOffset);
}

export function readProduceResult(bytes: Uint8Array): ProduceResultMeta {
  const r = readerAt(bytes);
  const errorCode = r.i32();
  const message = r.str() ?? undefined;
  const baseOffset = r.f64();
  const logStartOffset = r.f64();
  return finish(r, bytes, 'produce result', { errorCode, message, baseOffset, logStartOffset });
}

/** What a Fetch and a follower's ReplicaFetch share: the wait and the limits, then the partitions. */
interface FetchEnvelope<P> {
  partitions: P[];
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
}

function writeEnvelope<P>(w: MetaWriter, meta: FetchEnvelope<P>, writePartition: (w: MetaWriter, p: P) => void): void {
  w.f64(meta.maxWaitMs);
  w.f64(meta.minBytes);
  w.f64(meta.maxBytes);
  w.u32(meta.partitions.length);
  for (const p of meta.partitions) writePartition(w, p);
}

function readEnvelope<P>(r: MetaReader, readPartition: (r: MetaReader) => P): FetchEnvelope<P> {
  const maxWaitMs = r.f64();
  const minBytes = r.f64();
  const maxBytes = r.f64();
  const count = r.u32();
  const partitions: P[] = [];
  for (let i = 0; i < count; i++) partitions.push(readPartition(r));
  return { partitions, maxWaitMs, minBytes, maxBytes };
}

function writeFetchPartition(w: MetaWriter, p: FetchPartitionMeta): void {
  w.str(p.topic);
  w.f64(p.partition);
  w.f64(p.offset);
  w.f64(p.maxBytes);
}

function readFetchPartition(r: MetaReader): FetchPartitionMeta {
  const topic = r.name();
  const partition = r.f64();
  const offset = r.f64();
  return { topic, partition, offset, maxBytes: r.f64() };
}

type ReplicaFetchPartition = ReplicaFetchMeta['partitions'][number];

function writeReplicaPartition(w: MetaWriter, p: ReplicaFetchPartition): void {
  w.str(p.topic);
  w.f64(p.partition);
  w.f64(p.leaderEpoch);
  w.f64(p.fetchOffset);
  w.f64(p.maxBytes);
}

function readReplicaPartition(r: MetaReader): ReplicaFetchPartition {
  const topic = r.name();
  const partition = r.f64();
  const leaderEpoch = r.f64();
  const fetchOffset = r.f64();
  return { topic, partition, leaderEpoch, fetchOffset, maxBytes: r.f64() };
}

export function writeFetchMeta(w: MetaWriter, meta: FetchMeta): void {
  writeEnvelope(w, meta, writeFetchPartition);
}

export function readFetchMeta(bytes: Uint8Array): FetchMeta {
  const r = readerAt(bytes);
  return finish(r, bytes, 'fetch', readEnvelope(r, readFetchPartition));
}

export function writeReplicaFetchMeta(w: MetaWriter, meta: ReplicaFetchMeta): void {
  w.f64(meta.replicaId);
  writeEnvelope(w, meta, writeReplicaPartition);
}

export function readReplicaFetchMeta(bytes: Uint8Array): ReplicaFetchMeta {
  const r = readerAt(bytes);
  const replicaId = r.f64();
  return finish(r, bytes, 'replica fetch', { replicaId, ...readEnvelope(r, readReplicaPartition) });
}

export function writeFetchResult(w: MetaWriter, meta: FetchResultMeta): void {
  w.i32(meta.errorCode);
  w.str(meta.message);
  w.u32(meta.partitions.length);
  for (const p of meta.partitions) {
    w.i32(p.errorCode);
    w.str(p.message);
    w.str(p.topic);
    w.f64(p.partition);
    w.f64(p.highWatermark);
    w.f64(p.logStartOffset);
    w.str(p.file);
    w.f64(p.fileId);
    w.f64(p.position);
    w.f64(p.length);
    w.f64(p.logEndOffset ?? NaN);
  }
}

export function readFetchResult(bytes: Uint8Array): FetchResultMeta {
  const r = readerAt(bytes);
  const errorCode = r.i32();
  const message = r.str() ?? undefined;
  const count = r.u32();
  const partitions: FetchPartitionResult[] = [];
  for (let i = 0; i < count; i++) {
    const partitionError = r.i32();
    const partitionMessage = r.str() ?? undefined;
    const topic = r.name();
    const partition = r.f64();
    const highWatermark = r.f64();
    const logStartOffset = r.f64();
    const file = r.str();
    const fileId = r.f64();
    const position = r.f64();
    const length = r.f64();
    const logEndOffset = r.optionalF64();
    partitions.push({ errorCode: partitionError, message: partitionMessage, topic, partition, highWatermark, logStartOffset, file, fileId, position, length, logEndOffset });
  }
  return finish(r, bytes, 'fetch result', { errorCode, message, partitions });
}

export function writeEndWait(w: MetaWriter, meta: EndWaitMeta): void {
  w.f64(meta.requestId);
}

export function readEndWait(bytes: Uint8Array): EndWaitMeta {
  const r = readerAt(bytes);
  return finish(r, bytes, 'end wait', { requestId: r.f64() });
}
