// Where a Raft node keeps what it must not forget: term and vote, the log, the latest snapshot.
// Main thread only (the RaftServer's thread). Synchronous: metadata writes are small and each
// save() is one group commit — every output the node produced since the last save, one fsync each
// for the files it touched.
//
// Durability contract: when save() returns, everything it was given survives a crash (the data
// and the file sizes are fdatasynced, renames are followed by a directory fsync). The RaftServer
// sends no message before save() returns.
//
// Files in the directory:
//
// `raft-state`: term and vote in two 64-byte slots at offsets 0 and 512 (different sectors, so a
// torn write damages one at most); writes alternate, a reader takes the valid slot with the higher
// sequence (as storage/checkpoint.ts does).
//
//   offset size field
//        0    4 magic 'RLRS'
//        4    2 version (1)
//        6    2 flags (bit 0: votedFor is set)
//        8    8 sequence
//       16    8 term
//       24    8 votedFor
//       32    4 crc32c of bytes [0, 32)
//
// `raft-log`: a 16-byte header (magic 'RLRL', version u16, 10 zero bytes) then one record per entry:
//
//   offset size field
//        0    4 body length (bytes after this 8-byte record header)
//        4    4 crc32c of the body
//        8    8 index          } body
//       16    8 term           }
//       24    1 kind           }
//       25    n data           }
//
// Appends write all records of a save in one write and fdatasync. Truncating the suffix is an
// ftruncate + fdatasync. After a snapshot the log is rewritten with only the entries after it
// (write to raft-log.tmp, fsync, rename, fsync the directory): the metadata log past a snapshot is
// short, so the rewrite is cheap and there is no file-set to manage.
//
// `raft-snapshot`: header then the state machine's bytes, replaced whole (writeDurably):
//
//   offset size field
//        0    4 magic 'RLSN'
//        4    2 version (1)
//        6    2 zero
//        8    8 lastIndex
//       16    8 lastTerm
//       24    4 data length
//       28    4 crc32c of bytes [0, 28) and the data
//       32    n data
//
// Recovery stance: a torn tail of raft-log (a last record cut short, or zeros after the last good
// record, as a crash during an append leaves) was never acknowledged — messages go out only after
// fdatasync — so it is cut off. A bad record with intact data after it is corruption, not a torn
// write; open fails with CORRUPT_MESSAGE rather than silently forget entries this node promised
// to keep. (A damaged length field that points past the end of the file cannot be told from a torn
// tail and is cut off like one; the leader then sends the entries again.) Entries at or below the snapshot (a crash between the snapshot and the log rewrite) are
// skipped.

import { closeSync, existsSync, fdatasyncSync, ftruncateSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { Errors, RillError } from '../../errors.js';
import { crc32c } from '../../native/index.js';
import { readInt16, readInt64, readUint32, writeInt16, writeInt32, writeInt64 } from '../../storage/bytes.js';
import { syncDirectory, writeDurably } from '../../storage/durable-files.js';
import { EntryKind, type LogEntry } from './messages.js';
import { EMPTY_SNAPSHOT, type DurableState, type HardState, type RaftOutput, type Snapshot } from './raft-state.js';

export type StorageWrites = Pick<RaftOutput, 'hardState' | 'snapshot' | 'truncateFrom' | 'append'>;

export interface RaftStorage {
  /** What was saved before; called once, before the first save. */
  load(): DurableState;
  /** Makes the writes durable, in the order hardState, snapshot, truncateFrom, append. */
  save(writes: StorageWrites): void;
  close(): void;
}

export function hasWrites(w: StorageWrites): boolean {
  return w.hardState !== null || w.snapshot !== null || w.truncateFrom !== null || w.append.length > 0;
}

// --- in memory ---------------------------------------------------------------------------------------

/**
 * Storage that outlives the RaftNode but not the process: the simulations "crash" a node by
 * dropping it and restart it from the same MemoryRaftStorage.
 */
export class MemoryRaftStorage implements RaftStorage {
  private hard: HardState = { term: 0, votedFor: null };
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private entries: LogEntry[] = [];
  saves = 0;

  load(): DurableState {
    return { hardState: this.hard, snapshot: this.snap, entries: this.entries.slice() };
  }

  save(w: StorageWrites): void {
    this.saves++;
    if (w.hardState !== null) this.hard = w.hardState;
    if (w.snapshot !== null) {
      this.snap = w.snapshot;
      this.entries = this.entries.filter((e) => e.index > w.snapshot!.lastIndex);
    }
    if (w.truncateFrom !== null) this.entries = this.entries.filter((e) => e.index < w.truncateFrom!);
    for (const entry of w.append) {
      const expected = this.snap.lastIndex + this.entries.length + 1;
      if (entry.index !== expected) throw new Error(`append of index ${entry.index}, expected ${expected}`);
      this.entries.push(entry);
    }
  }

  close(): void {}
}

// --- on disk -----------------------------------------------------------------------------------------

export const RAFT_STATE_FILE = 'raft-state';
export const RAFT_LOG_FILE = 'raft-log';
export const RAFT_SNAPSHOT_FILE = 'raft-snapshot';

const STATE_MAGIC = 0x524c5253; // 'RLRS'
const LOG_MAGIC = 0x524c524c; // 'RLRL'
const SNAPSHOT_MAGIC = 0x524c534e; // 'RLSN'
const FORMAT_VERSION = 1;

const STATE_SLOT_SIZE = 64;
const STATE_SLOT_OFFSETS = [0, 512] as const;
const STATE_FILE_SIZE = 1024;
const STATE_CRC_OFFSET = 32;
const FLAG_HAS_VOTE = 1;

const LOG_HEADER_SIZE = 16;
const RECORD_HEADER_SIZE = 8;
const RECORD_FIXED_BODY = 17; // index, term, kind
const RECORD_INDEX = 8;
const RECORD_TERM = 16;
const RECORD_KIND = 24;
const RECORD_DATA = 25;

const SNAPSHOT_HEADER_SIZE = 32;
const SNAPSHOT_CRC_OFFSET = 28;

export class FileRaftStorage implements RaftStorage {
  private readonly dir: string;
  private stateFd = -1;
  private logFd = -1;
  private stateSequence = 0;
  private snapshotIndex = 0;
  /** File offset of each entry after the snapshot, and the log's end. */
  private positions: number[] = [];
  private logEnd = LOG_HEADER_SIZE;

  constructor(dir: string) {
    this.dir = dir;
  }

  load(): DurableState {
    mkdirSync(this.dir, { recursive: true });
    rmSync(join(this.dir, `${RAFT_LOG_FILE}.tmp`), { force: true }); // an unfinished rewrite
    const snapshot = this.loadSnapshot();
    this.snapshotIndex = snapshot.lastIndex;
    const hardState = this.loadState();
    const entries = this.loadLog(snapshot.lastIndex);
    return { hardState, snapshot, entries };
  }

  save(w: StorageWrites): void {
    if (w.hardState !== null) this.writeState(w.hardState);
    if (w.snapshot !== null) this.writeSnapshot(w.snapshot);
    if (w.truncateFrom !== null) this.truncate(w.truncateFrom);
    if (w.append.length > 0) this.append(w.append);
  }

  close(): void {
    if (this.stateFd >= 0) closeSync(this.stateFd);
    if (this.logFd >= 0) closeSync(this.logFd);
    this.stateFd = this.logFd = -1;
  }

  // --- term and vote ---

  private loadState(): HardState {
    this.stateFd = openSync(join(this.dir, RAFT_STATE_FILE), fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    let best: { sequence: number; state: HardState } | null = null;
    for (const offset of STATE_SLOT_OFFSETS) {
      const slot = new Uint8Array(STATE_SLOT_SIZE);
      if (readSync(this.stateFd, slot, 0, STATE_SLOT_SIZE, offset) < STATE_SLOT_SIZE) continue;
      if (readUint32(slot, 0) !== STATE_MAGIC || readInt16(slot, 4) !== FORMAT_VERSION) continue;
      if (readUint32(slot, STATE_CRC_OFFSET) !== crc32c(slot, 0, STATE_CRC_OFFSET)) continue;
      const sequence = readInt64(slot, 8);
      const hasVote = (readInt16(slot, 6) & FLAG_HAS_VOTE) !== 0;
      if (best === null || sequence > best.sequence) {
        best = { sequence, state: { term: readInt64(slot, 16), votedFor: hasVote ? readInt64(slot, 24) : null } };
      }
    }
    this.stateSequence = best?.sequence ?? 0;
    return best?.state ?? { term: 0, votedFor: null };
  }

  private writeState(state: HardState): void {
    this.stateSequence++;
    const slot = new Uint8Array(STATE_SLOT_SIZE);
    writeInt32(slot, 0, STATE_MAGIC);
    writeInt16(slot, 4, FORMAT_VERSION);
    writeInt16(slot, 6, state.votedFor === null ? 0 : FLAG_HAS_VOTE);
    writeInt64(slot, 8, this.stateSequence);
    writeInt64(slot, 16, state.term);
    writeInt64(slot, 24, state.votedFor ?? 0);
    writeInt32(slot, STATE_CRC_OFFSET, crc32c(slot, 0, STATE_CRC_OFFSET));
    writeSync(this.stateFd, slot, 0, STATE_SLOT_SIZE, STATE_SLOT_OFFSETS[this.stateSequence % 2]);
    if (this.stateSequence <= 2) writeSync(this.stateFd, new Uint8Array(1), 0, 1, STATE_FILE_SIZE - 1); // full size once
    fdatasyncSync(this.stateFd);
  }

  // --- snapshot ---

  private loadSnapshot(): Snapshot {
    const path = join(this.dir, RAFT_SNAPSHOT_FILE);
    if (!existsSync(path)) return EMPTY_SNAPSHOT;
    const bytes = new Uint8Array(readFileSync(path));
    const corrupt = (why: string) => new RillError(Errors.CORRUPT_MESSAGE, `raft snapshot ${path}: ${why}`, { path });
    if (bytes.length < SNAPSHOT_HEADER_SIZE || readUint32(bytes, 0) !== SNAPSHOT_MAGIC) throw corrupt('bad header');
    if (readInt16(bytes, 4) !== FORMAT_VERSION) throw corrupt(`unknown version ${readInt16(bytes, 4)}`);
    const length = readUint32(bytes, 24);
    if (SNAPSHOT_HEADER_SIZE + length !== bytes.length) throw corrupt('length mismatch');
    const crc = crc32c(bytes, SNAPSHOT_HEADER_SIZE, length, crc32c(bytes, 0, SNAPSHOT_CRC_OFFSET));
    if (crc !== readUint32(bytes, SNAPSHOT_CRC_OFFSET)) throw corrupt('CRC mismatch');
    return { lastIndex: readInt64(bytes, 8), lastTerm: readInt64(bytes, 16), data: bytes.slice(SNAPSHOT_HEADER_SIZE) };
  }

  private writeSnapshot(s: Snapshot): void {
    const bytes = new Uint8Array(SNAPSHOT_HEADER_SIZE + s.data.length);
    writeInt32(bytes, 0, SNAPSHOT_MAGIC);
    writeInt16(bytes, 4, FORMAT_VERSION);
    writeInt64(bytes, 8, s.lastIndex);
    writeInt64(bytes, 16, s.lastTerm);
    writeInt32(bytes, 24, s.data.length);
    bytes.set(s.data, SNAPSHOT_HEADER_SIZE);
    writeInt32(bytes, SNAPSHOT_CRC_OFFSET, crc32c(bytes, SNAPSHOT_HEADER_SIZE, s.data.length, crc32c(bytes, 0, SNAPSHOT_CRC_OFFSET)));
    writeDurably(join(this.dir, RAFT_SNAPSHOT_FILE), bytes);
    this.compactLog(s.lastIndex);
  }

  // --- log ---

  private loadLog(snapshotIndex: number): LogEntry[] {
    const path = join(this.dir, RAFT_LOG_FILE);
    if (!existsSync(path)) {
      this.logFd = this.createLog(path);
      return [];
    }
    this.logFd = openSync(path, fsConstants.O_RDWR);
    const size = fstatSync(this.logFd).size;
    const bytes = new Uint8Array(size);
    if (size > 0) readSync(this.logFd, bytes, 0, size, 0);
    const corrupt = (why: string, position: number) => new RillError(Errors.CORRUPT_MESSAGE, `raft log ${path} at ${position}: ${why}`, { path, position });
    if (size < LOG_HEADER_SIZE) {
      // A crash while creating the file: it never held an entry.
      closeSync(this.logFd);
      this.logFd = this.createLog(path);
      return [];
    }
    if (readUint32(bytes, 0) !== LOG_MAGIC) throw corrupt('bad magic', 0);
    if (readInt16(bytes, 4) !== FORMAT_VERSION) throw corrupt(`unknown version ${readInt16(bytes, 4)}`, 4);

    const entries: LogEntry[] = [];
    this.positions = [];
    let pos = LOG_HEADER_SIZE;
    while (pos < size) {
      const bad = recordProblem(bytes, pos);
      if (bad !== null) {
        const end = pos + RECORD_HEADER_SIZE + (pos + RECORD_HEADER_SIZE <= size ? readUint32(bytes, pos) : 0);
        const tornTail = end >= size || isAllZero(bytes, pos);
        if (!tornTail) throw corrupt(bad, pos);
        ftruncateSync(this.logFd, pos);
        fdatasyncSync(this.logFd);
        break;
      }
      const length = readUint32(bytes, pos);
      const index = readInt64(bytes, pos + RECORD_INDEX);
      if (index > snapshotIndex) {
        const expected = snapshotIndex + entries.length + 1;
        if (index !== expected) throw corrupt(`entry ${index} where ${expected} was expected`, pos);
        entries.push({
          index,
          term: readInt64(bytes, pos + RECORD_TERM),
          kind: bytes[pos + RECORD_KIND] as EntryKind,
          data: bytes.slice(pos + RECORD_DATA, pos + RECORD_HEADER_SIZE + length),
        });
        this.positions.push(pos);
      }
      pos += RECORD_HEADER_SIZE + length;
    }
    this.logEnd = pos;
    return entries;
  }

  private createLog(path: string): number {
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC, 0o644);
    writeSync(fd, logHeader(), 0, LOG_HEADER_SIZE, 0);
    fdatasyncSync(fd);
    syncDirectory(this.dir);
    this.positions = [];
    this.logEnd = LOG_HEADER_SIZE;
    return fd;
  }

  private append(entries: readonly LogEntry[]): void {
    const expected = this.snapshotIndex + this.positions.length + 1;
    if (entries[0].index !== expected) throw new Error(`append of index ${entries[0].index}, expected ${expected}`);
    let total = 0;
    for (const e of entries) total += RECORD_HEADER_SIZE + RECORD_FIXED_BODY + e.data.length;
    const buf = new Uint8Array(total);
    let pos = 0;
    for (const e of entries) {
      this.positions.push(this.logEnd + pos);
      pos += encodeRecord(buf, pos, e);
    }
    writeSync(this.logFd, buf, 0, total, this.logEnd);
    fdatasyncSync(this.logFd);
    this.logEnd += total;
  }

  private truncate(fromIndex: number): void {
    const keep = fromIndex - this.snapshotIndex - 1;
    if (keep >= this.positions.length) return;
    const end = keep <= 0 ? LOG_HEADER_SIZE : this.positions[keep];
    ftruncateSync(this.logFd, end);
    fdatasyncSync(this.logFd);
    this.positions.length = Math.max(0, keep);
    this.logEnd = end;
  }

  /** Rewrites the log with only the entries after `snapshotIndex`. */
  private compactLog(snapshotIndex: number): void {
    const drop = Math.min(this.positions.length, Math.max(0, snapshotIndex - this.snapshotIndex));
    const from = drop < this.positions.length ? this.positions[drop] : this.logEnd;
    const tail = new Uint8Array(this.logEnd - from);
    if (tail.length > 0) readSync(this.logFd, tail, 0, tail.length, from);
    const path = join(this.dir, RAFT_LOG_FILE);
    const temp = `${path}.tmp`;
    const fd = openSync(temp, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_TRUNC, 0o644);
    writeSync(fd, logHeader(), 0, LOG_HEADER_SIZE, 0);
    if (tail.length > 0) writeSync(fd, tail, 0, tail.length, LOG_HEADER_SIZE);
    fdatasyncSync(fd);
    renameSync(temp, path);
    syncDirectory(this.dir);
    closeSync(this.logFd);
    this.logFd = fd;
    const shift = from - LOG_HEADER_SIZE;
    this.positions = this.positions.slice(drop).map((p) => p - shift);
    this.logEnd -= shift;
    this.snapshotIndex = snapshotIndex;
  }
}

function logHeader(): Uint8Array {
  const header = new Uint8Array(LOG_HEADER_SIZE);
  writeInt32(header, 0, LOG_MAGIC);
  writeInt16(header, 4, FORMAT_VERSION);
  return header;
}

function encodeRecord(buf: Uint8Array, pos: number, e: LogEntry): number {
  const bodyLength = RECORD_FIXED_BODY + e.data.length;
  writeInt32(buf, pos, bodyLength);
  writeInt64(buf, pos + RECORD_INDEX, e.index);
  writeInt64(buf, pos + RECORD_TERM, e.term);
  buf[pos + RECORD_KIND] = e.kind;
  buf.set(e.data, pos + RECORD_DATA);
  writeInt32(buf, pos + 4, crc32c(buf, pos + RECORD_HEADER_SIZE, bodyLength));
  return RECORD_HEADER_SIZE + bodyLength;
}

/** Why the record at `pos` is not a valid record, or null when it is. */
function recordProblem(bytes: Uint8Array, pos: number): string | null {
  if (pos + RECORD_HEADER_SIZE > bytes.length) return 'record header cut short';
  const length = readUint32(bytes, pos);
  if (length < RECORD_FIXED_BODY) return `record length ${length}`;
  if (pos + RECORD_HEADER_SIZE + length > bytes.length) return 'record cut short';
  if (crc32c(bytes, pos + RECORD_HEADER_SIZE, length) !== readUint32(bytes, pos + 4)) return 'CRC mismatch';
  const kind = bytes[pos + RECORD_KIND];
  if (kind !== EntryKind.NOOP && kind !== EntryKind.COMMAND) return `unknown entry kind ${kind}`;
  return null;
}

function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}
