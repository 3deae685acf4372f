// Typed face of the native addon (native/rill_native.cc). The rest of Rill imports this module,
// never the .node file. Any thread may load it; mappings belong to the thread that created them.
//
// Errors thrown by these functions are plain Errors shaped like Node's fs errors:
// `code` ('ENOSPC', 'EACCES', ...), `errno` and `syscall` (see isErrnoError).

import { createRequire } from 'node:module';

export interface NativeConstants {
  readonly MADV_NORMAL: number;
  readonly MADV_RANDOM: number;
  readonly MADV_SEQUENTIAL: number;
  readonly MADV_WILLNEED: number;
  readonly MADV_DONTNEED: number;
  readonly POSIX_FADV_SEQUENTIAL: number;
  readonly POSIX_FADV_WILLNEED: number;
  readonly POSIX_FADV_DONTNEED: number;
  readonly PAGE_SIZE: number;
}

type Bytes = ArrayBuffer | ArrayBufferView;

/** The file and mapping calls the storage layer makes. Tests substitute a fault-injecting one. */
export interface FileIo {
  /** open(2) with O_CLOEXEC added; flags and mode as in fs.constants. Returns the descriptor. */
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  /** The file's size from fstat(2). */
  fileSize(fd: number): number;
  /** Reserves blocks for [offset, offset + length), growing the file if needed. ENOSPC surfaces here. */
  fallocate(fd: number, offset: number, length: number): void;
  ftruncate(fd: number, length: number): void;
  fdatasync(fd: number): void;
  /** fdatasync(2) on the libuv thread pool. */
  fdatasyncAsync(fd: number): Promise<void>;
  /** posix_fadvise(2); a no-op where the platform lacks it. */
  fadvise(fd: number, offset: number, length: number, advice: number): void;
  /**
   * Maps [offset, offset + length) of the file, shared. The range may extend past the end of the
   * file (to grow into later), but touching a page past the end raises SIGBUS: callers only touch
   * what the file holds.
   */
  mmap(fd: number, length: number, offset: number, writable: boolean): ArrayBuffer;
  /** Unmaps and detaches the buffer: views of it read as empty afterwards. */
  munmap(mapping: ArrayBuffer): void;
  msync(mapping: ArrayBuffer, offset: number, length: number): void;
  madvise(mapping: ArrayBuffer, offset: number, length: number, advice: number): void;
  /** Faults a range in, writable, on the thread pool (MADV_POPULATE_WRITE); changes no data. */
  prefaultAsync(mapping: ArrayBuffer, offset: number, length: number): Promise<void>;
}

interface NativeAddon extends FileIo {
  crc32c(bytes: Bytes, offset?: number, length?: number, seed?: number): number;
  crc32cSoftware(bytes: Bytes, offset?: number, length?: number, seed?: number): number;
  crc32cHardware(bytes: Bytes, offset?: number, length?: number, seed?: number): number;
  readonly hasHardwareCrc32c: boolean;
  readonly constants: NativeConstants;
}

// src/native and dist/native are both two levels below the package root.
const addon = createRequire(import.meta.url)('../../native/build/Release/rill_native.node') as NativeAddon;

/** The real file I/O. */
export const nativeIo: FileIo = {
  open: addon.open,
  close: addon.close,
  fileSize: addon.fileSize,
  fallocate: addon.fallocate,
  ftruncate: addon.ftruncate,
  fdatasync: addon.fdatasync,
  fdatasyncAsync: addon.fdatasyncAsync,
  fadvise: addon.fadvise,
  mmap: addon.mmap,
  munmap: addon.munmap,
  msync: addon.msync,
  madvise: addon.madvise,
  prefaultAsync: addon.prefaultAsync,
};

export const constants: NativeConstants = addon.constants;

/** True when crc32c() uses the CPU's instruction (SSE4.2 on x86-64, CRC on arm64). */
export const hasHardwareCrc32c: boolean = addon.hasHardwareCrc32c;

/**
 * CRC-32C (Castagnoli) of bytes[offset, offset + length), continuing from `seed` (a previous
 * result) if given. Uses the CPU instruction where there is one.
 */
export const crc32c: (bytes: Bytes, offset?: number, length?: number, seed?: number) => number = addon.crc32c;

/** The table-driven implementation, always available; gives the same results as crc32c(). */
export const crc32cSoftware: (bytes: Bytes, offset?: number, length?: number, seed?: number) => number =
  addon.crc32cSoftware;

/** The CPU instruction only; throws where the CPU has none. For tests and benchmarks. */
export const crc32cHardware: (bytes: Bytes, offset?: number, length?: number, seed?: number) => number =
  addon.crc32cHardware;

/** An error thrown by a system call in the addon (or by Node's fs). */
export interface ErrnoError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

export function isErrnoError(error: unknown): error is ErrnoError {
  return error instanceof Error && typeof (error as Partial<ErrnoError>).code === 'string' && 'syscall' in error;
}
