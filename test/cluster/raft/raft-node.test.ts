// RaftNode alone, with messages delivered by hand: scripted schedules that random simulation
// reaches only rarely (the Raft paper's figure 8), and the node's output contract.

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/cluster/random.js';
import { EntryKind, type RaftMessage } from '../../../src/cluster/raft/messages.js';
import { RaftNode } from '../../../src/cluster/raft/raft-node.js';
import { MemoryRaftStorage } from '../../../src/cluster/raft/raft-storage.js';

const ELECTION_TICKS = 10;
const bytes = (s: string) => new TextEncoder().encode(s);

/** Nodes whose messages wait in a queue until the test delivers them. */
class Manual {
  readonly nodes = new Map<number, RaftNode | null>();
  readonly storage = new Map<number, MemoryRaftStorage>();
  queue: RaftMessage[] = [];

  constructor(
    readonly ids: number[],
    private readonly maxEntriesPerAppend?: number,
  ) {
    for (const id of ids) {
      this.storage.set(id, new MemoryRaftStorage());
      this.restart(id);
    }
  }

  node(id: number): RaftNode {
    return this.nodes.get(id)!;
  }

  restart(id: number): void {
    this.nodes.set(id, new RaftNode({ id, voters: this.ids, electionTicks: ELECTION_TICKS, random: seededRandom(id), maxEntriesPerAppend: this.maxEntriesPerAppend }, this.storage.get(id)!.load()));
  }

  crash(id: number): void {
    this.nodes.set(id, null);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  /** Carries out each live node's output: persist, then queue its messages. */
  flush(): void {
    for (const [id, node] of this.nodes) {
      if (node === null) continue;
      const out = node.takeOutput();
      this.storage.get(id)!.save(out);
      this.queue.push(...out.messages);
    }
  }

  tick(id: number, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
    this.flush();
  }

  /** Delivers queued messages that pass `filter` (and the replies they cause) until none is left; drops the rest. */
  deliver(filter: (m: RaftMessage) => boolean): void {
    for (;;) {
      const batch = this.queue;
      this.queue = [];
      const pass = batch.filter((m) => filter(m) && this.nodes.get(m.to));
      if (pass.length === 0) return;
      for (const m of pass) this.node(m.to).step(m);
      this.flush();
    }
  }

  /**
   * Ticks `id` until it leads, delivering votes only among `among`; then, if `announce`, lets its
   * first heartbeat and the answers through among them.
   */
  elect(id: number, among: number[], announce = true): void {
    // Everyone must have gone an election timeout without a leader (stickiness), then `id` campaigns.
    for (const other of among) if (other !== id) this.tick(other, ELECTION_TICKS);
    this.queue = [];
    for (let i = 0; i < 8 * ELECTION_TICKS && this.node(id).role !== 'leader'; i++) {
      this.tick(id);
      this.deliver((m) => among.includes(m.from) && among.includes(m.to) && (m.type === 'vote' || m.type === 'vote-response'));
    }
    expect(this.node(id).role).toBe('leader');
    this.queue = [];
    if (announce) {
      this.tick(id);
      this.deliver((m) => among.includes(m.from) && among.includes(m.to));
    }
  }
}

describe('RaftNode', () => {
  it("commits only its own term's entries by counting replicas (the figure 8 schedule)", () => {
    const c = new Manual([1, 2, 3, 4, 5], 1); // one entry per append: acks can cover A but not the no-op after it
    c.elect(1, [1, 2, 3, 4, 5]);
    const k = c.node(1).lastIndex + 1;
    c.node(1).propose(bytes('A'));
    c.flush();
    c.deliver((m) => (m.from === 1 && m.to === 2) || (m.from === 2 && m.to === 1)); // A reaches S2 only
    expect(c.node(1).commitIndex).toBe(k - 1);
    c.crash(1);

    c.elect(5, [3, 4, 5], false); // S5 leads term 2 with a no-op at index k that nobody else receives
    expect(c.node(5).termAt(k)).toBe(c.node(5).term);
    c.crash(5);

    c.restart(1);
    c.elect(1, [1, 2, 3], false); // term 3; S1's no-op goes to index k + 1
    c.tick(1);
    const s1WithS3S4 = (m: RaftMessage) => (m.from === 1 && (m.to === 3 || m.to === 4)) || ((m.from === 3 || m.from === 4) && m.to === 1);
    // S3 and S4 lack A, reject S1's first append, and get A alone; the no-op never reaches them.
    const carriesNoop = (m: RaftMessage) => m.type === 'append' && m.entries.some((e) => e.index === k + 1) && c.node(m.to).termAt(k) !== undefined;
    c.deliver((m) => s1WithS3S4(m) && !carriesNoop(m));
    // A (term 1) is now on S1, S3 and S4 — a majority, acknowledged in term 3 — but must not count
    // as committed: S5 can still be elected (by S2, S4, S5) and overwrite it.
    expect(c.node(3).termAt(k)).toBe(c.node(1).termAt(k));
    expect(c.node(4).termAt(k)).toBe(c.node(1).termAt(k));
    expect(c.node(1).commitIndex).toBeLessThan(k);
    c.crash(1);

    c.restart(5);
    c.elect(5, [2, 4, 5]);
    c.deliver((m) => [2, 4, 5].includes(m.from) && [2, 4, 5].includes(m.to));
    expect(c.node(4).termAt(k)).toBe(c.node(5).termAt(k)); // A was overwritten, legitimately
    expect(c.node(4).termAt(k)).not.toBe(1);
  });

  it('a lone node commits its own proposals at once', () => {
    const c = new Manual([7]);
    c.tick(7, 3 * ELECTION_TICKS);
    expect(c.node(7).role).toBe('leader');
    const result = c.node(7).propose(bytes('x'));
    expect(result).toEqual({ ok: true, index: 2, term: 1 });
    const out = c.node(7).takeOutput();
    expect(out.append.map((e) => e.index)).toEqual([2]);
    expect(out.committed.map((e) => e.kind)).toEqual([EntryKind.NOOP, EntryKind.COMMAND].slice(-out.committed.length));
    expect(c.node(7).commitIndex).toBe(2);
  });

  it('pre-vote does not raise the term of a node that cannot win', () => {
    const c = new Manual([1, 2, 3]);
    c.elect(1, [1, 2, 3]);
    c.deliver(() => true);
    const term = c.node(1).term;
    for (let i = 0; i < 10; i++) {
      c.tick(3, ELECTION_TICKS * 2);
      // 3's pre-votes reach 1 and 2, which keep hearing from their leader and ignore them.
      c.tick(1, 1);
      c.tick(2, 1);
      c.deliver((m) => m.type !== 'append' || m.to !== 3);
    }
    expect(c.node(3).term).toBe(term);
    expect(c.node(1).role).toBe('leader');
  });

  it('duplicated and reordered appends change nothing', () => {
    const c = new Manual([1, 2, 3]);
    c.elect(1, [1, 2, 3]);
    c.deliver(() => true);
    for (const s of ['a', 'b', 'c']) c.node(1).propose(bytes(s));
    c.flush();
    const appends = c.queue.filter((m) => m.type === 'append' && m.to === 2);
    c.queue = [];
    for (const m of [...appends].reverse().concat(appends)) c.node(2).step(m);
    c.flush();
    c.deliver(() => true);
    c.tick(1, 2);
    c.deliver(() => true);
    expect(c.node(2).lastIndex).toBe(c.node(1).lastIndex);
    expect(c.node(2).commitIndex).toBe(c.node(1).commitIndex);
    expect(c.storage.get(2)!.load().entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
  });

  it('compaction replaces the applied prefix with a snapshot in the output', () => {
    const c = new Manual([1]);
    c.tick(1, 3 * ELECTION_TICKS);
    for (const s of ['a', 'b']) c.node(1).propose(bytes(s));
    c.flush();
    expect(c.node(1).compact(2, bytes('state'))).toBe(true);
    expect(() => c.node(1).compact(9, bytes('x'))).toThrow(RangeError);
    c.flush();
    const durable = c.storage.get(1)!.load();
    expect(durable.snapshot.lastIndex).toBe(2);
    expect(durable.entries.map((e) => e.index)).toEqual([3]);
    const restarted = new RaftNode({ id: 1, voters: [1], random: seededRandom(1) }, durable);
    expect(restarted.lastIndex).toBe(3);
    expect(restarted.termAt(2)).toBe(1);
  });
});
