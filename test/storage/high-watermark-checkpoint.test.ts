import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HIGH_WATERMARK_CHECKPOINT_FILE, HighWatermarkCheckpoint } from '../../src/storage/high-watermark-checkpoint.js';
import { PartitionLog } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';

const tempDir = tempDirs();

describe('HighWatermarkCheckpoint', () => {
  it('reads 0 without a file, keeps what it writes across instances, and skips unchanged values', () => {
    const dir = tempDir();
    expect(new HighWatermarkCheckpoint(dir).value).toBe(0);
    const checkpoint = new HighWatermarkCheckpoint(dir);
    checkpoint.write(42);
    expect(new HighWatermarkCheckpoint(dir).value).toBe(42);
    const path = join(dir, HIGH_WATERMARK_CHECKPOINT_FILE);
    const before = statSync(path).mtimeMs;
    writeFileSync(path, '0\n42\n'); // touch: an unchanged value must not be written again
    const touched = statSync(path).mtimeMs;
    checkpoint.write(42);
    expect(statSync(path).mtimeMs).toBe(touched);
    expect(touched).toBeGreaterThanOrEqual(before);
    checkpoint.write(-1); // never a value a replica cannot have reached
    expect(readFileSync(path, 'utf8')).toBe('0\n42\n');
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it('treats an unreadable file or an unknown version as 0 (a lower start is safe)', () => {
    for (const text of ['', 'garbage', '0\n-5\n', '0\n1.5\n', '9\n10\n']) {
      const dir = tempDir();
      writeFileSync(join(dir, HIGH_WATERMARK_CHECKPOINT_FILE), text);
      expect(new HighWatermarkCheckpoint(dir).value, JSON.stringify(text)).toBe(0);
    }
  });

  it('is a file the log loader knows (no "unknown file" on open)', async () => {
    const dir = tempDir();
    const log = await PartitionLog.open(dir);
    await log.close();
    new HighWatermarkCheckpoint(dir).write(7);
    writeFileSync(join(dir, `${HIGH_WATERMARK_CHECKPOINT_FILE}.tmp`), '0\n8\n'); // a crash before the rename
    const reopened = await PartitionLog.open(dir);
    expect(reopened.recovery.ignoredFiles).toEqual([]);
    await reopened.close();
  });
});
