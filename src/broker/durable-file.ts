// Small metadata files written so that a crash leaves the old version or the new one, never half
// of one. Main thread (synchronous: these files are tiny and written rarely).

import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from '../storage/log-loader.js';

/** Write to a temporary file, fsync it, rename it over `path`, fsync the directory. */
export function writeDurably(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text);
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  syncDirectory(dirname(path));
}
