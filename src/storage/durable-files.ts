// Making file-system changes durable: directory fsync, and whole-file replacement that a crash
// leaves either old or new, never half written. Any thread (synchronous: for small files written
// rarely — metadata, checkpoints of state, snapshots).

import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** fsync of a directory, so that creating, renaming or removing files in it is durable. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes to `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory. */
export function writeDurably(path: string, data: string | Uint8Array): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, data);
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectory(dirname(path));
}
