// The partition checkpoint: how far the log is known to be durable, and whether it was closed
// cleanly. Owner thread only. It lives in the partition directory (as Kafka keeps its
// leader-epoch-checkpoint there), so a partition directory is self-contained.
//
// File `checkpoint`: two 64-byte slots at offsets 0 and 512 (different disk sectors, so a torn
// write damages one at most). Writes alternate between slots; a reader takes the valid slot with
// the higher sequence number. One pwrite + fdatasync per checkpoint, no rename dance.
//
//   offset size field
//        0    4 magic 'RLCP'
//        4    2 version (1)
//        6    2 flags (bit 0: clean shutdown — the log needs no recovery scan)
//        8    8 sequence
//       16    8 segmentBase         base offset of the segment the position refers to
//       24    8 nextOffset          log end offset at the checkpoint
//       32    4 position            bytes of that segment known durable and valid
//       36    4 offsetIndexEntries  entries of its .index written and synced before the checkpoint
//       40    4 timeIndexEntries    likewise for its .timeindex
//       44    8 maxTimestamp        largest record timestamp in the segment up to position
//       52    4 crc32c of bytes [0, 52)
//
// Ordering contract: the checkpoint is written only after the log bytes below `position` and the
// index entries it counts have been fdatasynced.

import { closeSync, fdatasyncSync, openSync, readSync, writeSync, constants as fsConstants } from 'node:fs';
import { crc32c } from '../native/index.js';
import { readInt16, readInt64, readUint32, writeInt16, writeInt32, writeInt64 } from './bytes.js';

export const CHECKPOINT_FILE = 'checkpoint';

const MAGIC = 0x524c4350; // 'RLCP'
const VERSION = 1;
const SLOT_SIZE = 64;
const SLOT_OFFSETS = [0, 512] as const;
const FILE_SIZE = 1024;
const CRC_OFFSET = 52;
const FLAG_CLEAN = 1;
/** A maxTimestamp for "no record yet" that fits an i64 field (JS -Infinity does not). */
const NO_TIMESTAMP = -1;

export interface CheckpointState {
  clean: boolean;
  segmentBase: number;
  nextOffset: number;
  position: number;
  offsetIndexEntries: number;
  timeIndexEntries: number;
  /** -Infinity when the segment holds no record below `position`. */
  maxTimestamp: number;
}

export class CheckpointFile {
  private readonly fd: number;
  private sequence = 0;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Opens or creates `path`. */
  static open(path: string): CheckpointFile {
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    return new CheckpointFile(fd);
  }

  /** The newest valid state, or null (new partition, or both slots damaged). */
  read(): CheckpointState | null {
    let best: { sequence: number; state: CheckpointState } | null = null;
    for (const offset of SLOT_OFFSETS) {
      const slot = new Uint8Array(SLOT_SIZE);
      const n = readSync(this.fd, slot, 0, SLOT_SIZE, offset);
      if (n < SLOT_SIZE) continue;
      const decoded = decodeSlot(slot);
      if (decoded !== null && (best === null || decoded.sequence > best.sequence)) best = decoded;
    }
    this.sequence = best?.sequence ?? 0;
    return best?.state ?? null;
  }

  /** Writes `state` to the older slot and fdatasyncs it on this thread. */
  write(state: CheckpointState): void {
    this.writeSlot(state);
    fdatasyncSync(this.fd);
  }

  /**
   * Writes `state` to the older slot now and fdatasyncs it with `sync` (the thread pool), so the
   * owner's event loop does not wait on the disk. A later write() or writeAsync() still wins:
   * its sequence number is higher.
   */
  async writeAsync(state: CheckpointState, sync: (fd: number) => Promise<void>): Promise<void> {
    this.writeSlot(state);
    await sync(this.fd);
  }

  private writeSlot(state: CheckpointState): void {
    this.sequence++;
    const slot = encodeSlot(this.sequence, state);
    const offset = SLOT_OFFSETS[this.sequence % 2];
    writeSync(this.fd, slot, 0, SLOT_SIZE, offset);
    if (this.sequence <= 2) writeSync(this.fd, new Uint8Array(1), 0, 1, FILE_SIZE - 1); // full size once
  }

  close(): void {
    closeSync(this.fd);
  }
}

function encodeSlot(sequence: number, s: CheckpointState): Uint8Array {
  const slot = new Uint8Array(SLOT_SIZE);
  writeInt32(slot, 0, MAGIC);
  writeInt16(slot, 4, VERSION);
  writeInt16(slot, 6, s.clean ? FLAG_CLEAN : 0);
  writeInt64(slot, 8, sequence);
  writeInt64(slot, 16, s.segmentBase);
  writeInt64(slot, 24, s.nextOffset);
  writeInt32(slot, 32, s.position);
  writeInt32(slot, 36, s.offsetIndexEntries);
  writeInt32(slot, 40, s.timeIndexEntries);
  writeInt64(slot, 44, s.maxTimestamp === -Infinity ? NO_TIMESTAMP : s.maxTimestamp);
  writeInt32(slot, CRC_OFFSET, crc32c(slot, 0, CRC_OFFSET));
  return slot;
}

function decodeSlot(slot: Uint8Array): { sequence: number; state: CheckpointState } | null {
  if (readUint32(slot, 0) !== MAGIC || readInt16(slot, 4) !== VERSION) return null;
  if (readUint32(slot, CRC_OFFSET) !== crc32c(slot, 0, CRC_OFFSET)) return null;
  const maxTimestamp = readInt64(slot, 44);
  return {
    sequence: readInt64(slot, 8),
    state: {
      clean: (readInt16(slot, 6) & FLAG_CLEAN) !== 0,
      segmentBase: readInt64(slot, 16),
      nextOffset: readInt64(slot, 24),
      position: readUint32(slot, 32),
      offsetIndexEntries: readUint32(slot, 36),
      timeIndexEntries: readUint32(slot, 40),
      maxTimestamp: maxTimestamp === NO_TIMESTAMP ? -Infinity : maxTimestamp,
    },
  };
}
