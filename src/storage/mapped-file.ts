// A file mapped into memory that grows in chunks: the building block of segments and indexes.
// Owner thread only (a mapping cannot leave the thread that made it). Not thread-safe.
//
// A writable MappedFile reserves address space for its whole `capacity` once, but the file holds
// only what fallocate() has reserved so far (`allocated`), grown in doubling chunks from 64 KiB to
// 16 MiB: a segment that holds a few records takes a few pages of disk, not segment.bytes.
// Writes only ever go below `allocated`, because writing through a mapping into a page with no
// disk block behind it raises SIGBUS on a full disk; fallocate() reports ENOSPC instead.
//
// With `prefault`, while the writer is fast (>= 16 MB/s, measured every 512 KiB it advances), a
// window of 8 MiB ahead of it is kept reserved and pre-faulted on the thread pool, so the append
// path rarely takes a page fault on a fresh page (the cost RocketMQ's warmed mapped files avoid).
// Measured here: copying 256 MiB into pre-faulted pages took 20 ms, into fallocated but unfaulted
// ones 200-400 ms. Only while fast, and never more than the window: a pre-faulted page is a dirty
// page (the next fdatasync writes its zeros if the writer has not reached it) and a resident one.
// A window that grew with the file cost 3.7x the records in disk writes and ~50 MiB of RSS per
// busy partition; a fixed window for every writer wrote zeros for slow partitions every second.
//
// Pages the writer has left behind are unmapped again with dropPages() (MADV_DONTNEED: on a shared
// file mapping that only drops this process's mapping; the page cache keeps the data, dirty or
// not), so RSS tracks the tail being written, not everything ever written.
//
// Views handed out (`bytes`, subarrays of it) stay valid until the next truncate(), unmap() or
// close(): those detach the mapping, after which old views read as empty rather than fault.

import { constants as nativeConstants, type FileIo } from '../native/index.js';
import { constants as fsConstants, fstatSync } from 'node:fs';

const PAGE = 4096;
const MADV_DONTNEED = nativeConstants.MADV_DONTNEED;
/** First growth step; small partitions stay small on disk. */
export const MIN_GROW_BYTES = 64 * 1024;
/** Largest growth step: 4 ms of writing at 2 GB/s; at most this much disk is reserved unused. */
export const MAX_GROW_BYTES = 8 * 1024 * 1024;
/**
 * Bytes kept pre-faulted ahead of a fast writer: what it writes in PREFAULT_AHEAD_MS at its
 * measured pace, between 512 KiB and 8 MiB (~4 ms at 2 GB/s, ~2 ms to fault in). A fixed 8 MiB
 * window for a partition written at 25 MB/s held a third of a second of writing resident. 10 ms
 * ahead rather than 40: the bench:broker flood (8 partitions written at once) held ~6 MiB per
 * partition resident at 40 ms, and its peak RSS fell from 174-195 to 152-162 MiB at 10 ms, while
 * one fast partition (bench:log) still gets a ~6 MiB window and appended as fast as before.
 */
export const PREFAULT_WINDOW_BYTES = 8 * 1024 * 1024;
const MIN_PREFAULT_WINDOW_BYTES = 512 * 1024;
const PREFAULT_AHEAD_MS = 10;
/** The writer's pace is measured each time it advances this much. */
const PACE_STEP_BYTES = 512 * 1024;
/** At or above this pace (16 MB/s: 512 KiB in 32 ms) the writer counts as fast. */
const FAST_STEP_MS = 32;

export function roundUpToPage(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

export interface MappedFileOptions {
  /** Writable files reserve this much address space; the file may grow up to it. */
  capacity: number;
  /** Create the file if missing (writable only). */
  create?: boolean;
  /** Pre-fault chunks ahead of the writer (for logs; indexes are too small to bother). */
  prefault?: boolean;
}

export class MappedFile {
  readonly path: string;
  readonly writable: boolean;
  private readonly io: FileIo;
  private fd: number;
  private mapping: ArrayBuffer | null = null;
  private mappedLength = 0;
  private readonly capacity: number;
  private readonly prefault: boolean;
  /** Bytes of the file reserved with fallocate (its size, for a file we grow). */
  private allocatedBytes: number;
  private growStep = MIN_GROW_BYTES;
  /** Pre-faulting has been started up to here. */
  private prefaultedTo = 0;
  /** Where and when the writer's pace was last measured. */
  private paceMark = 0;
  private paceAt = 0;
  private fast = false;
  /** The pre-faulted window for the writer's current pace. */
  private window = MIN_PREFAULT_WINDOW_BYTES;
  /** Pages below here were dropped from this mapping by dropPages(). */
  private droppedTo = 0;
  /** Async fdatasync calls in flight; the descriptor is closed only once they are done. */
  private syncsInFlight = 0;
  private closeWhenIdle = false;
  /** Inode of the open file, looked up on first use (-1: not yet). */
  private inode = -1;
  /** The whole mapping as bytes; empty when unmapped. */
  bytes: Uint8Array = new Uint8Array(0);

  private constructor(io: FileIo, path: string, fd: number, writable: boolean, options: MappedFileOptions) {
    this.io = io;
    this.path = path;
    this.fd = fd;
    this.writable = writable;
    this.capacity = options.capacity;
    this.prefault = options.prefault ?? false;
    this.allocatedBytes = io.fileSize(fd);
  }

  /** Opens (or creates) a file to append to, mapped read-write over `capacity` bytes. */
  static openWritable(io: FileIo, path: string, options: MappedFileOptions): MappedFile {
    const flags = fsConstants.O_RDWR | (options.create ? fsConstants.O_CREAT : 0);
    const fd = io.open(path, flags, 0o644);
    try {
      const file = new MappedFile(io, path, fd, true, { ...options, capacity: roundUpToPage(Math.max(options.capacity, io.fileSize(fd), 1)) });
      file.map();
      return file;
    } catch (error) {
      io.close(fd);
      throw error;
    }
  }

  /** Opens an existing file read-only, mapped over its current size. */
  static openReadOnly(io: FileIo, path: string): MappedFile {
    const fd = io.open(path, fsConstants.O_RDONLY);
    try {
      const size = io.fileSize(fd);
      const file = new MappedFile(io, path, fd, false, { capacity: roundUpToPage(Math.max(size, 1)) });
      file.map();
      return file;
    } catch (error) {
      io.close(fd);
      throw error;
    }
  }

  get allocated(): number {
    return this.allocatedBytes;
  }

  get descriptor(): number {
    return this.fd;
  }

  /**
   * The inode of the file this is open on: which file a path named when it was opened, since the
   * log cleaner swaps a new file in under a segment's name (readers elsewhere compare it).
   */
  get ino(): number {
    if (this.inode < 0) this.inode = fstatSync(this.fd).ino;
    return this.inode;
  }

  private map(): void {
    this.mappedLength = this.writable ? this.capacity : roundUpToPage(Math.max(this.allocatedBytes, 1));
    if (!this.writable && this.allocatedBytes === 0) {
      this.bytes = new Uint8Array(0);
      return;
    }
    this.mapping = this.io.mmap(this.fd, this.mappedLength, 0, this.writable);
    this.bytes = new Uint8Array(this.mapping, 0, this.writable ? this.mappedLength : this.allocatedBytes);
  }

  private unmap(): void {
    if (this.mapping !== null) this.io.munmap(this.mapping);
    this.mapping = null;
    this.bytes = new Uint8Array(0);
  }

  /**
   * Makes sure bytes [0, end) are backed by reserved disk blocks. Throws the fallocate error
   * (ENOSPC, EFBIG, ...) with nothing changed when the disk cannot give them.
   */
  reserve(end: number): void {
    if (end > this.capacity) throw new RangeError(`${this.path}: ${end} bytes exceed the mapped capacity ${this.capacity}`);
    if (end > this.allocatedBytes) this.grow(end);
    if (this.prefault && end - this.paceMark >= PACE_STEP_BYTES) {
      const now = performance.now();
      const elapsed = now - this.paceAt;
      this.fast = elapsed <= FAST_STEP_MS;
      const bytesPerMs = (end - this.paceMark) / Math.max(elapsed, 0.001);
      this.window = Math.min(PREFAULT_WINDOW_BYTES, Math.max(MIN_PREFAULT_WINDOW_BYTES, roundUpToPage(bytesPerMs * PREFAULT_AHEAD_MS)));
      this.paceMark = end;
      this.paceAt = now;
    }
    if (this.fast) this.prefaultAhead(end);
  }

  /** fallocate up to `end`, or by the next (doubling) step if that is more. */
  private grow(end: number): void {
    const target = Math.min(this.capacity, roundUpToPage(Math.max(end, this.allocatedBytes + this.growStep)));
    this.io.fallocate(this.fd, this.allocatedBytes, target - this.allocatedBytes);
    this.allocatedBytes = target;
    this.growStep = Math.min(this.growStep * 2, MAX_GROW_BYTES);
  }

  /**
   * Keeps [end, end + window) reserved and faulted in. Failures are harmless: the
   * writer then takes the faults itself, and reserve() reports a real lack of space.
   */
  private prefaultAhead(end: number): void {
    const windowEnd = Math.min(this.capacity, roundUpToPage(end + this.window));
    if (windowEnd > this.allocatedBytes) {
      try {
        this.grow(windowEnd);
      } catch {
        return;
      }
    }
    const from = Math.max(this.prefaultedTo, end - (end % PAGE));
    if (this.mapping === null || windowEnd - from < PACE_STEP_BYTES) return;
    this.prefaultedTo = windowEnd;
    // Resolves or fails on its own; a failure (say, the file shrank meanwhile) costs nothing.
    this.io.prefaultAsync(this.mapping, from, windowEnd - from).catch(() => {});
  }

  /**
   * Unmaps this process's pages of [0, end) (they stay in the page cache): for synced log bytes,
   * so that RSS does not grow with everything written. Later reads fault them back in.
   */
  dropPages(end: number): void {
    const to = end - (end % PAGE);
    if (this.mapping === null || to <= this.droppedTo) return;
    this.io.madvise(this.mapping, this.droppedTo, to - this.droppedTo, MADV_DONTNEED);
    this.droppedTo = to;
  }

  /**
   * Cuts the file to `size` bytes. The mapping is replaced, so views handed out before are
   * detached (empty) rather than pointing past the end of the file.
   */
  truncate(size: number): void {
    this.unmap();
    this.io.ftruncate(this.fd, size);
    this.allocatedBytes = size;
    this.growStep = MIN_GROW_BYTES;
    this.prefaultedTo = Math.min(this.prefaultedTo, size);
    this.paceMark = Math.min(this.paceMark, size);
    this.droppedTo = 0; // a fresh mapping
    this.map();
  }

  /** fdatasync on this thread. */
  sync(): void {
    this.io.fdatasync(this.fd);
  }

  /** fdatasync on the thread pool. */
  async syncAsync(): Promise<void> {
    this.syncsInFlight++;
    try {
      await this.io.fdatasyncAsync(this.fd);
    } finally {
      this.syncsInFlight--;
      if (this.syncsInFlight === 0 && this.closeWhenIdle) this.closeDescriptor();
    }
  }

  advise(offset: number, length: number, advice: number): void {
    if (this.mapping !== null && length > 0) this.io.madvise(this.mapping, offset, length, advice);
  }

  fadvise(offset: number, length: number, advice: number): void {
    this.io.fadvise(this.fd, offset, length, advice);
  }

  get closed(): boolean {
    return this.fd < 0 || this.closeWhenIdle;
  }

  /** Unmaps now; closes the descriptor once no fdatasync is running on it. */
  close(): void {
    if (this.closed) return;
    this.unmap();
    if (this.syncsInFlight > 0) this.closeWhenIdle = true;
    else this.closeDescriptor();
  }

  private closeDescriptor(): void {
    const fd = this.fd;
    this.fd = -1;
    this.closeWhenIdle = false;
    if (fd >= 0) this.io.close(fd);
  }
}
