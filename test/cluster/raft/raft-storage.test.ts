// FileRaftStorage: what save() made durable comes back after reopening; torn tails are cut off;
// corruption in the middle of the log fails loudly; compaction keeps exactly the entries after the
// snapshot. MemoryRaftStorage is held to the same table of cases.

import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errors, isRillError } from '../../../src/errors.js';
import { EntryKind, type LogEntry } from '../../../src/cluster/raft/messages.js';
import { FileRaftStorage, MemoryRaftStorage, RAFT_LOG_FILE, type RaftStorage, type StorageWrites } from '../../../src/cluster/raft/raft-storage.js';
import { tempDirs } from '../../helpers/temp-dir.js';

const tempDir = tempDirs('rill-raft-');
const entry = (index: number, term: number, text = `e${index}`): LogEntry => ({ index, term, kind: EntryKind.COMMAND, data: new TextEncoder().encode(text) });
const writes = (w: Partial<StorageWrites>): StorageWrites => ({ hardState: null, snapshot: null, truncateFrom: null, append: [], ...w });
const plain = (entries: readonly LogEntry[]) => entries.map((e) => [e.index, e.term, e.kind, Buffer.from(e.data).toString()]);

const kinds: [string, () => { open: () => RaftStorage }][] = [
  ['file', () => {
    const dir = tempDir();
    return { open: () => new FileRaftStorage(dir) };
  }],
  ['memory', () => {
    const storage = new MemoryRaftStorage();
    return { open: () => storage };
  }],
];

describe.each(kinds)('%s raft storage', (_name, make) => {
  it('keeps term, vote, entries, truncation and snapshot across reopening', () => {
    const s = make();
    let st = s.open();
    expect(st.load()).toMatchObject({ hardState: { term: 0, votedFor: null }, entries: [] });
    st.save(writes({ hardState: { term: 2, votedFor: 3 }, append: [entry(1, 1), entry(2, 2), entry(3, 2)] }));
    st.save(writes({ truncateFrom: 3, append: [entry(3, 4), entry(4, 4)], hardState: { term: 4, votedFor: null } }));
    st.close();
    st = s.open();
    let loaded = st.load();
    expect(loaded.hardState).toEqual({ term: 4, votedFor: null });
    expect(plain(loaded.entries)).toEqual(plain([entry(1, 1), entry(2, 2), entry(3, 4), entry(4, 4)]));
    st.save(writes({ snapshot: { lastIndex: 2, lastTerm: 2, data: new Uint8Array([9, 9]) }, append: [entry(5, 4)] }));
    st.close();
    st = s.open();
    loaded = st.load();
    expect(loaded.snapshot.lastIndex).toBe(2);
    expect(Array.from(loaded.snapshot.data)).toEqual([9, 9]);
    expect(plain(loaded.entries)).toEqual(plain([entry(3, 4), entry(4, 4), entry(5, 4)]));
    // A snapshot past the whole log (installed from a leader) leaves it empty; appends continue after it.
    st.save(writes({ snapshot: { lastIndex: 10, lastTerm: 5, data: new Uint8Array([1]) }, truncateFrom: 3 }));
    st.save(writes({ append: [entry(11, 5)] }));
    st.close();
    st = s.open();
    loaded = st.load();
    expect(loaded.snapshot.lastIndex).toBe(10);
    expect(plain(loaded.entries)).toEqual(plain([entry(11, 5)]));
    st.close();
  });

  it('refuses an append that leaves a gap', () => {
    const st = make().open();
    st.load();
    expect(() => st.save(writes({ append: [entry(2, 1)] }))).toThrow(/expected 1/);
    st.close();
  });
});

describe('file raft storage recovery', () => {
  function filled(): string {
    const dir = tempDir();
    const st = new FileRaftStorage(dir);
    st.load();
    st.save(writes({ hardState: { term: 1, votedFor: 1 }, append: [entry(1, 1), entry(2, 1), entry(3, 1)] }));
    st.close();
    return dir;
  }

  it('cuts off a torn last record', () => {
    const dir = filled();
    const path = join(dir, RAFT_LOG_FILE);
    const size = statSync(path).size;
    writeFileSync(path, readFileSync(path).subarray(0, size - 3));
    const st = new FileRaftStorage(dir);
    expect(st.load().entries.map((e) => e.index)).toEqual([1, 2]);
    st.save(writes({ append: [entry(3, 2)] }));
    st.close();
    const again = new FileRaftStorage(dir);
    expect(plain(again.load().entries)).toEqual(plain([entry(1, 1), entry(2, 1), entry(3, 2)]));
    again.close();
  });

  it('cuts off zeros after the last record', () => {
    const dir = filled();
    appendFileSync(join(dir, RAFT_LOG_FILE), new Uint8Array(100));
    const st = new FileRaftStorage(dir);
    expect(st.load().entries).toHaveLength(3);
    st.close();
  });

  it('fails with CORRUPT_MESSAGE on a damaged record with records after it', () => {
    const dir = filled();
    const path = join(dir, RAFT_LOG_FILE);
    const bytes = readFileSync(path);
    bytes[16 + 8 + 17] ^= 0xff; // the first record's data (its length field is intact)
    writeFileSync(path, bytes);
    const error = (() => {
      try {
        new FileRaftStorage(dir).load();
      } catch (e) {
        return e;
      }
    })();
    expect(isRillError(error, Errors.CORRUPT_MESSAGE)).toBe(true);
  });

  it('takes the newer term-and-vote slot when the other is damaged', () => {
    const dir = filled();
    const st = new FileRaftStorage(dir);
    st.load();
    st.save(writes({ hardState: { term: 7, votedFor: 2 } }));
    st.close();
    const path = join(dir, 'raft-state');
    const bytes = readFileSync(path);
    bytes[0 + 20] ^= 0xff; // slot 0 holds sequence 2 (term 7): damage it
    writeFileSync(path, bytes);
    const reopened = new FileRaftStorage(dir);
    expect(reopened.load().hardState).toEqual({ term: 1, votedFor: 1 });
    reopened.close();
  });
});
