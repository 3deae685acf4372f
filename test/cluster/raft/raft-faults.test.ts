// Named fault scenarios on the simulated network: a split never lets the minority commit, a
// killed leader is replaced, pre-vote keeps a rejoining node from deposing the leader, a follower
// far behind catches up from a snapshot, and the lease runs out before any other leader can exist.

import { describe, expect, it } from 'vitest';
import { Errors, isRillError } from '../../../src/errors.js';
import { raftAddress } from '../../../src/cluster/raft/raft-transport.js';
import { RaftSim } from './raft-sim.js';

const encoder = new TextEncoder();
const LIMIT_MS = 10_000;

function stableSim(seed: number, nodes = 5): RaftSim {
  const sim = new RaftSim({ seed, nodes, faults: { loss: 0.05, minDelayMs: 1, maxDelayMs: 8 } });
  expect(sim.runUntilStableLeader(LIMIT_MS)).not.toBeNull();
  return sim;
}

function commit(sim: RaftSim, count: number): void {
  for (let i = 0; i < count; i++) {
    const leader = sim.currentLeaders()[0];
    const { command } = sim.propose(leader);
    expect(sim.clock.runUntilTrue(() => sim.machine(leader).commands.includes(command), LIMIT_MS, 5)).not.toBeNull();
  }
}

const sides = (ids: number[]) => ids.map(raftAddress);

describe('Raft fault scenarios', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: the minority side of a split never commits; the majority carries on`, async () => {
      const sim = stableSim(seed);
      commit(sim, 3);
      const oldLeader = sim.currentLeaders()[0];
      const minority = [oldLeader, sim.ids.find((id) => id !== oldLeader)!];
      const majority = sim.ids.filter((id) => !minority.includes(id));
      sim.network.partition(sides(minority), sides(majority));
      const commitBefore = Math.max(...minority.map((id) => sim.server(id).status().commitIndex));

      const outcomes: string[] = [];
      const minorityCommands: string[] = [];
      for (let i = 0; i < 10; i++) {
        const { command, result } = sim.propose(oldLeader);
        minorityCommands.push(command);
        result?.then(() => outcomes.push('committed'), (e) => outcomes.push(isRillError(e, Errors.NOT_CONTROLLER) ? 'not-controller' : String(e)));
      }
      // The majority elects a new leader and commits, while the old one cannot.
      expect(sim.clock.runUntilTrue(() => majority.some((id) => sim.server(id).isLeader), LIMIT_MS, 5)).not.toBeNull();
      for (let i = 0; i < 5; i++) {
        const leader = majority.find((id) => sim.server(id).isLeader)!;
        const { command } = sim.propose(leader);
        expect(sim.clock.runUntilTrue(() => sim.machine(leader).commands.includes(command), LIMIT_MS, 5)).not.toBeNull();
      }
      sim.clock.runFor(2_000);
      for (const id of minority) expect(sim.server(id).status().commitIndex).toBe(commitBefore);
      // Check-quorum deposed the old leader: it stopped taking proposals.
      expect(sim.server(oldLeader).isLeader).toBe(false);
      await new Promise((resolve) => setImmediate(resolve));
      expect(outcomes).toEqual(Array(10).fill('not-controller'));

      // After healing, the minority's entries are overwritten, never applied.
      sim.network.heal();
      commit(sim, 1);
      const commit2 = sim.server(sim.currentLeaders()[0]).status().commitIndex;
      expect(sim.clock.runUntilTrue(() => sim.ids.every((id) => sim.server(id).lastApplied >= commit2), LIMIT_MS, 5)).not.toBeNull();
      for (const id of sim.ids) {
        const applied = sim.machine(id).commands;
        expect(applied.filter((c) => minorityCommands.includes(c))).toEqual([]);
      }
      sim.checkLogMatching();
      expect(sim.violations).toEqual([]);
    });
  }

  for (const seed of [11, 12, 13, 14]) {
    it(`seed ${seed}: a killed leader is replaced and metadata changes continue`, () => {
      const sim = stableSim(seed);
      commit(sim, 5);
      const old = sim.currentLeaders()[0];
      const oldTerm = sim.server(old).term;
      sim.crash(old);
      const took = sim.runUntilStableLeader(LIMIT_MS);
      expect(took).not.toBeNull();
      const leader = sim.currentLeaders()[0];
      expect(leader).not.toBe(old);
      expect(sim.server(leader).term).toBeGreaterThan(oldTerm);
      commit(sim, 5);
      // The old leader comes back as a follower and catches up.
      sim.start(old);
      const target = sim.server(leader).status().commitIndex;
      expect(sim.clock.runUntilTrue(() => sim.server(old).lastApplied >= target, LIMIT_MS, 5)).not.toBeNull();
      expect(sim.machine(old).commands).toEqual(sim.machine(leader).commands.slice(0, sim.machine(old).commands.length));
      expect(sim.violations).toEqual([]);
    });
  }

  it('pre-vote: a node cut off for a long time rejoins without deposing the leader', () => {
    const sim = stableSim(21);
    const leader = sim.currentLeaders()[0];
    const term = sim.server(leader).term;
    const loner = sim.ids.find((id) => id !== leader)!;
    sim.network.partition(sides(sim.ids.filter((id) => id !== loner)), sides([loner]));
    sim.clock.runFor(5_000); // dozens of election timeouts for the loner
    expect(sim.server(loner).term).toBe(term); // pre-votes never raised it
    sim.network.heal();
    commit(sim, 2);
    expect(sim.currentLeaders()).toEqual([leader]);
    expect(sim.server(leader).term).toBe(term);
  });

  it('a follower far behind catches up from a snapshot', () => {
    const sim = stableSim(31, 3);
    const leader = sim.currentLeaders()[0];
    const lagger = sim.ids.find((id) => id !== leader)!;
    sim.crash(lagger);
    commit(sim, 80); // the leader snapshots every 25 entries and drops its log
    expect(sim.server(leader).status().snapshotIndex).toBeGreaterThan(50);
    sim.start(lagger);
    const target = sim.server(leader).status().commitIndex;
    expect(sim.clock.runUntilTrue(() => sim.server(lagger).lastApplied >= target, LIMIT_MS, 5)).not.toBeNull();
    expect(sim.machine(lagger).commands).toEqual(sim.machine(leader).commands);
    expect(sim.server(lagger).status().snapshotIndex).toBeGreaterThan(0);
  });

  for (const seed of [41, 42, 43]) {
    it(`seed ${seed}: the old leader's lease runs out before another leader is elected`, () => {
      const sim = stableSim(seed);
      commit(sim, 2);
      const old = sim.currentLeaders()[0];
      expect(sim.server(old).hasLease()).toBe(true);
      const others = sim.ids.filter((id) => id !== old);
      sim.network.partition(sides([old]), sides(others));
      let checked = false;
      const elected = sim.clock.runUntilTrue(() => {
        if (others.some((id) => sim.server(id).isLeader)) {
          checked = true;
          expect(sim.server(old).hasLease()).toBe(false);
          return true;
        }
        return false;
      }, LIMIT_MS, 1);
      expect(elected).not.toBeNull();
      expect(checked).toBe(true);
    });
  }

  it('a single-voter cluster elects itself and commits alone', () => {
    const sim = new RaftSim({ seed: 51, nodes: 1 });
    expect(sim.runUntilStableLeader(LIMIT_MS)).not.toBeNull();
    commit(sim, 3);
    expect(sim.machine(1).commands).toHaveLength(3);
  });

  it('propose fails with NOT_CONTROLLER on a follower and STALE_CONTROLLER_EPOCH for an old term', async () => {
    const sim = stableSim(61, 3);
    const leader = sim.currentLeaders()[0];
    const follower = sim.ids.find((id) => id !== leader)!;
    const notLeader = await sim.server(follower).propose(encoder.encode('x')).catch((e: unknown) => e);
    expect(isRillError(notLeader, Errors.NOT_CONTROLLER)).toBe(true);
    expect((notLeader as { details: { leaderId: number } }).details.leaderId).toBe(leader);
    const stale = await sim.server(leader).propose(encoder.encode('y'), sim.server(leader).term - 1).catch((e: unknown) => e);
    expect(isRillError(stale, Errors.STALE_CONTROLLER_EPOCH)).toBe(true);
  });
});
