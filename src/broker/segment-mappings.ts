// Read-only mappings of segment files on the main thread, so that fetched log bytes go from the
// page cache to the socket without being copied through a ring (DESIGN: "mmap + write").
// Main thread only: a mapping belongs to the thread that made it.
//
// A worker answers a fetch with where the bytes are (file, position, length); the main thread
// acquires that range here, hands the view to socket.write, and releases it in the write's
// callback. A mapping stays alive while any range of it is acquired, even if it was replaced by
// a larger one (the active segment grows) or evicted.
//
// Safety: the main thread only touches ranges a worker has just reported as holding batches
// below the high watermark, in the file the worker read them from. The owner never shortens a
// file below such bytes while they can still be fetched (truncation cuts only above the high
// watermark; retention unlinks whole files, which stay readable while open or mapped), so a view
// never reaches past the end of its file. Compaction swaps a new file in under the segment's
// name: the owner names the file it read by path and inode (`fileId`), and a range is served
// only from a descriptor of that inode — the one held since before the swap, if the owner read
// the old file, or a fresh one. This takes no stat per fetch (~14 µs on the loaded VM) and
// closes the window in which a swap between the owner's read and a stat here would have served
// the new file's bytes at the old file's positions.

import { constants as fsConstants, fstatSync } from 'node:fs';
import { constants as nativeConstants, nativeIo, type FileIo } from '../native/index.js';
import { storageError } from '../storage/index.js';

interface Mapping {
  buffer: ArrayBuffer;
  length: number;
  refs: number;
  /** Replaced or evicted: unmapped as soon as the last reference goes. */
  retired: boolean;
}

interface MappedFile {
  fd: number;
  /** Inode of the file when opened: the log cleaner replaces a segment file under the same name. */
  ino: number;
  current: Mapping | null;
  lastUsed: number;
}

export interface AcquiredRange {
  bytes: Uint8Array;
  /** Call once the bytes are no longer needed (the socket write completed or failed). */
  release(): void;
}

const PAGE = 4096;
const MADV_DONTNEED = nativeConstants.MADV_DONTNEED;
/** Sent ranges at least this large have their pages unmapped once sent (see dropPages). */
const DROP_AFTER_SEND_BYTES = 64 * 1024;

export class SegmentMappings {
  private readonly io: FileIo;
  private readonly maxFiles: number;
  private readonly files = new Map<string, MappedFile>();
  private tick = 0;

  /** `maxFiles` bounds the descriptors and mappings kept open for idle files (LRU). */
  constructor(options: { io?: FileIo; maxFiles?: number } = {}) {
    this.io = options.io ?? nativeIo;
    this.maxFiles = options.maxFiles ?? 256;
  }

  get openFiles(): number {
    return this.files.size;
  }

  /**
   * Maps (or reuses a mapping of) `file`, the inode `fileId`, and returns [position,
   * position + length) of it. STORAGE_ERROR if the path no longer names that file and no
   * descriptor of it is held (the client fetches again and gets positions in the new one).
   */
  acquire(file: string, fileId: number, position: number, length: number): AcquiredRange {
    const entry = this.open(file, fileId);
    entry.lastUsed = ++this.tick;
    let mapping = entry.current;
    if (mapping === null || position + length > mapping.length) {
      if (mapping !== null) this.retire(mapping);
      const size = this.io.fileSize(entry.fd);
      if (position + length > size) {
        throw storageError(new Error(`${file} holds ${size} bytes, ${position + length} requested`), 'mapping a segment for a fetch');
      }
      mapping = { buffer: this.io.mmap(entry.fd, Math.ceil(size / PAGE) * PAGE, 0, false), length: size, refs: 0, retired: false };
      entry.current = mapping;
    }
    mapping.refs++;
    const held = mapping;
    let released = false;
    this.evictIdle();
    return {
      bytes: new Uint8Array(held.buffer, position, length),
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.retired && held.refs === 0) this.io.munmap(held.buffer);
        else if (length >= DROP_AFTER_SEND_BYTES) this.dropPages(held, position, length);
      },
    };
  }

  /**
   * Unmaps the whole pages of a sent range from this thread (MADV_DONTNEED; the page cache keeps
   * them), so that a catch-up consumer reading gigabytes does not leave them all in the broker's
   * RSS. Harmless for other ranges in flight over the same pages: a read faults them back in.
   */
  private dropPages(mapping: Mapping, position: number, length: number): void {
    const from = Math.ceil(position / PAGE) * PAGE;
    const to = Math.floor((position + length) / PAGE) * PAGE;
    if (to <= from) return;
    try {
      this.io.madvise(mapping.buffer, from, to - from, MADV_DONTNEED);
    } catch {
      // Only a cost: the pages stay mapped until the mapping is retired.
    }
  }

  private open(file: string, fileId: number): MappedFile {
    let entry = this.files.get(file);
    // A descriptor of another inode (the file before a swap, when the owner now reads the new
    // one) would serve other bytes at these positions.
    if (entry !== undefined && entry.ino !== fileId) {
      this.closeFile(file, entry);
      entry = undefined;
    }
    if (entry === undefined) {
      let fd: number;
      try {
        fd = this.io.open(file, fsConstants.O_RDONLY);
      } catch (error) {
        throw storageError(error, `opening ${file} for a fetch`);
      }
      const ino = fstatSync(fd).ino;
      if (ino !== fileId) {
        this.io.close(fd);
        throw storageError(new Error(`${file} was replaced after its owner read it`), 'opening a segment for a fetch');
      }
      entry = { fd, ino, current: null, lastUsed: 0 };
      this.files.set(file, entry);
    }
    return entry;
  }

  private retire(mapping: Mapping): void {
    mapping.retired = true;
    if (mapping.refs === 0) this.io.munmap(mapping.buffer);
  }

  /** Closes the least recently used files beyond the bound; acquired ranges stay valid. */
  private evictIdle(): void {
    if (this.files.size <= this.maxFiles) return;
    const byAge = [...this.files.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [file, entry] of byAge.slice(0, this.files.size - this.maxFiles)) this.closeFile(file, entry);
  }

  private closeFile(file: string, entry: MappedFile): void {
    if (entry.current !== null) this.retire(entry.current);
    entry.current = null;
    this.io.close(entry.fd);
    this.files.delete(file);
  }

  /** Forgets a file (its segment was deleted); ranges still acquired stay valid until released. */
  forget(file: string): void {
    const entry = this.files.get(file);
    if (entry !== undefined) this.closeFile(file, entry);
  }

  closeAll(): void {
    for (const [file, entry] of [...this.files]) this.closeFile(file, entry);
  }
}
