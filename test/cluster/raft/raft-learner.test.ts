// Raft learners: the non-voters every broker runs so that it applies the committed metadata log.
// They receive the log (and a snapshot when they are too far behind) but never vote, never count
// towards a commit, and never campaign.

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/cluster/random.js';
import { EntryKind, type LogEntry, type RaftMessage } from '../../../src/cluster/raft/messages.js';
import { RaftNode } from '../../../src/cluster/raft/raft-node.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const commands = (entries: LogEntry[]) => entries.filter((e) => e.kind === EntryKind.COMMAND).map((e) => new TextDecoder().decode(e.data));

/** Voters 1..3 and learner 4, messages delivered at once unless `cut` drops them. */
function cluster() {
  const voters = [1, 2, 3];
  const nodes = new Map([1, 2, 3, 4].map((id) => [id, new RaftNode({ id, voters, electionTicks: 10, random: seededRandom(id) })]));
  const applied = new Map<number, LogEntry[]>([...nodes.keys()].map((id) => [id, []]));
  let cut = (_m: RaftMessage) => false;
  const run = () => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [id, node] of nodes) {
        const out = node.takeOutput();
        applied.get(id)!.push(...out.committed);
        for (const m of out.messages) {
          moved = true;
          if (!cut(m)) nodes.get(m.to)?.step(m);
        }
      }
    }
  };
  /** Heartbeats carry the commit index to whoever has not heard it yet. */
  const heartbeat = (leader: RaftNode) => {
    for (let i = 0; i < 3; i++) leader.tick();
    run();
  };
  const elect = () => {
    for (let i = 0; i < 40 && ![...nodes.values()].some((n) => n.role === 'leader'); i++) {
      for (const n of nodes.values()) n.tick();
      run();
    }
    return [...nodes.values()].find((n) => n.role === 'leader')!;
  };
  return { nodes, applied, run, elect, heartbeat, setCut: (f: (m: RaftMessage) => boolean) => (cut = f) };
}

describe('Raft learners', () => {
  it('receive and apply the committed log; a learner never campaigns', () => {
    const c = cluster();
    const leader = c.elect();
    expect(leader.id).not.toBe(4);
    for (const n of c.nodes.values()) n.setLearners([4]);
    leader.propose(bytes('create orders'));
    c.run();
    c.heartbeat(leader);
    expect(commands(c.applied.get(4)!)).toEqual(['create orders']);
    // Ticks alone never make the learner a candidate, whatever happens to the voters.
    const learner = c.nodes.get(4)!;
    c.setCut(() => true);
    for (let i = 0; i < 100; i++) learner.tick();
    c.run();
    expect(learner.role).toBe('follower');
  });

  it('do not count towards a commit: with two voters cut off, nothing commits even with the learner answering', () => {
    const c = cluster();
    const leader = c.elect();
    for (const n of c.nodes.values()) n.setLearners([4]);
    c.run();
    const others = [1, 2, 3].filter((id) => id !== leader.id);
    c.setCut((m) => others.includes(m.to) || others.includes(m.from));
    const before = leader.commitIndex;
    leader.propose(bytes('minority write'));
    c.run();
    expect(leader.commitIndex).toBe(before);
    expect(commands(c.applied.get(4)!)).not.toContain('minority write');
  });

  it('catch up from a snapshot when the leader compacted what they missed', () => {
    const c = cluster();
    const leader = c.elect();
    leader.propose(bytes('a'));
    leader.propose(bytes('b'));
    c.run();
    leader.compact(leader.commitIndex, bytes('state after a, b'));
    for (const n of c.nodes.values()) n.setLearners([4]);
    c.run();
    const learner = c.nodes.get(4)!;
    expect(learner.snapshotIndex).toBe(leader.snapshotIndex);
    leader.propose(bytes('c'));
    c.run();
    c.heartbeat(leader);
    expect(commands(c.applied.get(4)!)).toContain('c');
    expect(learner.commitIndex).toBe(leader.commitIndex);
  });
});
