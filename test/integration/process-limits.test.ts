// The log inside a real process under real limits: a file-size limit (RLIMIT_FSIZE, EFBIG) and
// a directory the process may not write to (EACCES). The child reports errors as data over IPC.

import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildProcess } from 'node:child_process';
import { PartitionLog } from '../../src/storage/index.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { collectStderr, fixture, request, spawnNode, waitForExit } from './fixtures/child.js';
import type { Reply } from './fixtures/log-process.js';

const tempDir = tempDirs();
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function start(dir: string, config: object, options: Parameters<typeof spawnNode>[2] = {}): { child: ChildProcess; stderr: () => string } {
  const child = spawnNode(fixture('log-process.ts'), [dir, JSON.stringify(config)], { ipc: true, ...options });
  children.push(child);
  return { child, stderr: collectStderr(child) };
}

describe('a log process under limits', () => {
  it('fails appends beyond RLIMIT_FSIZE with EFBIG, keeps serving reads, and closes cleanly', async () => {
    const dir = tempDir();
    // 1024-byte blocks in dash and bash alike for -f? No: POSIX sh uses 512-byte blocks; 2048
    // blocks is 1 MiB in dash (the sh here) and 2 MiB in bash. Either way far below a segment.
    const { child, stderr } = start(dir, { segmentBytes: 64 * 1024 * 1024 }, { shellPrefix: 'ulimit -f 2048' });
    await request<Reply>(child).catch((e) => {
      throw new Error(`${e.message}: ${stderr()}`);
    });
    const reply = await request<Reply>(child, { cmd: 'append', batches: 100_000, perBatch: 20 });
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error).toMatchObject({ type: 'STORAGE_ERROR', details: { errno: 'EFBIG', syscall: 'fallocate' } });
    expect(reply.appended).toBeGreaterThan(0);
    expect(await request<Reply>(child, { cmd: 'verify' })).toMatchObject({ ok: true, logEndOffset: reply.logEndOffset });
    expect(await request<Reply>(child, { cmd: 'close' })).toMatchObject({ ok: true });
    expect(await waitForExit(child)).toMatchObject({ code: 0 });

    // Without the limit the same log takes appends again.
    const log = await PartitionLog.open(dir);
    expect(log.recovery.clean).toBe(true);
    expect(log.logEndOffset).toBe(reply.logEndOffset);
    await log.close();
  });

  it('fails a roll into a read-only directory with EACCES and works again once it is writable', async () => {
    const parent = tempDir();
    const dir = join(parent, 'partition');
    mkdirSync(dir);
    // Root ignores directory permissions, so as root the child runs as nobody (uid 65534).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chownSync(dir, 65534, 65534);
      chmodSync(parent, 0o755);
    }
    const { child, stderr } = start(dir, { segmentBytes: 16 * 1024 }, asRoot ? { uid: 65534, gid: 65534 } : {});
    await request<Reply>(child).catch((e) => {
      throw new Error(`${e.message}: ${stderr()}`);
    });
    expect(await request<Reply>(child, { cmd: 'append', batches: 5, perBatch: 10 })).toMatchObject({ ok: true, logEndOffset: 50 });

    chmodSync(dir, 0o555);
    const refused = await request<Reply>(child, { cmd: 'append', batches: 100, perBatch: 10 });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error).toMatchObject({ type: 'STORAGE_ERROR', details: { errno: 'EACCES', syscall: 'open' } });
    expect(await request<Reply>(child, { cmd: 'verify' })).toMatchObject({ ok: true, logEndOffset: refused.logEndOffset });

    chmodSync(dir, 0o755);
    const after = await request<Reply>(child, { cmd: 'append', batches: 100, perBatch: 10 });
    expect(after).toMatchObject({ ok: true, logEndOffset: refused.logEndOffset + 1000 });
    expect(await request<Reply>(child, { cmd: 'verify' })).toMatchObject({ ok: true });
    expect(await request<Reply>(child, { cmd: 'close' })).toMatchObject({ ok: true });
  });
});
