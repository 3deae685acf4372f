// Raft on a deterministic simulated network: seeded loss, duplication, reordering, partitions,
// crashes and restarts from durable state. Each seed replays exactly; a failure names its seed.
//
// Checked throughout: election safety (one leader per term), log matching, leader completeness,
// state machine safety (one entry per index everywhere). At the end of each run the network heals,
// every node restarts, and every acknowledged command must be applied on every node.

import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/cluster/random.js';
import { raftAddress } from '../../../src/cluster/raft/raft-transport.js';
import { RaftSim } from './raft-sim.js';

const SEEDS = Number(process.env.RAFT_SIM_SEEDS ?? 150);
const CHAOS_MS = 4_000;
const SETTLE_LIMIT_MS = 20_000;

function runChaos(seed: number): RaftSim {
  const r = seededRandom(seed * 7919 + 1);
  const nodes = seed % 3 === 0 ? 3 : 5;
  const sim = new RaftSim({
    seed,
    nodes,
    faults: { loss: r.next() * 0.2, duplicate: r.next() * 0.1, minDelayMs: 1, maxDelayMs: 1 + r.int(30) },
  });
  const maxDown = Math.floor((nodes - 1) / 2);
  let events = 0;
  for (let t = 0; t < CHAOS_MS; ) {
    const roll = r.next();
    // Leader crashes right after proposals, restarts and short partitions are what expose commit-
    // rule bugs (the Raft paper's figure 8), so they are frequent here.
    if (roll < 0.45) {
      sim.propose();
    } else if (roll < 0.5) {
      sim.propose(sim.ids[r.int(nodes)]); // often a follower: must be refused, never misapplied
    } else if (roll < 0.55) {
      const shuffled = [...sim.ids].sort(() => r.next() - 0.5);
      const cut = 1 + r.int(nodes - 1);
      sim.network.partition(shuffled.slice(0, cut).map(raftAddress), shuffled.slice(cut).map(raftAddress));
    } else if (roll < 0.6) {
      sim.network.heal();
    } else if (roll < 0.65) {
      const live = sim.live;
      // Crashing beyond a minority would stall the cluster (correctly); keep a majority for liveness.
      if (nodes - live.length < maxDown) sim.crash(live[r.int(live.length)]);
    } else if (roll < 0.73) {
      const leader = sim.currentLeaders()[0];
      if (leader !== undefined && nodes - sim.live.length < maxDown) sim.crash(leader);
    } else if (roll < 0.85) {
      const down = sim.ids.filter((id) => !sim.live.includes(id));
      if (down.length > 0) sim.start(down[r.int(down.length)]);
    }
    const step = 1 + r.int(30);
    sim.clock.runFor(step);
    t += step;
    if (++events % 10 === 0) sim.checkLogMatching();
  }
  // Heal, bring everyone back, and let the cluster settle.
  sim.network.heal();
  sim.network.faults = { loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 5 };
  for (const id of sim.ids) sim.start(id);
  return sim;
}

const totals = { terms: 0, acknowledged: 0 };

describe('Raft under a faulty simulated network', () => {
  afterAll(() => {
    // The runs must exercise what they claim to: leadership changes and real traffic.
    expect(totals.terms).toBeGreaterThan(SEEDS * 2);
    expect(totals.acknowledged).toBeGreaterThan(SEEDS * 20);
  });

  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}: safety holds and acknowledged commands survive`, async () => {
      const sim = runChaos(seed);
      expect(sim.runUntilStableLeader(SETTLE_LIMIT_MS), 'a leader after healing').not.toBeNull();
      // A final command commits, which commits everything before it; then all nodes catch up.
      const leader = sim.currentLeaders()[0];
      const { command } = sim.propose(leader);
      const committed = () => sim.machine(leader).commands.includes(command);
      expect(sim.clock.runUntilTrue(committed, SETTLE_LIMIT_MS, 10), `final command ${command} commits`).not.toBeNull();
      const commit = sim.server(leader).status().commitIndex;
      expect(sim.clock.runUntilTrue(() => sim.ids.every((id) => sim.server(id).lastApplied >= commit), SETTLE_LIMIT_MS, 10)).not.toBeNull();
      await new Promise((resolve) => setImmediate(resolve)); // let the proposals' callbacks run
      sim.checkLogMatching();
      expect(sim.violations).toEqual([]);
      const reference = sim.machine(leader).commands;
      for (const id of sim.ids) {
        const applied = sim.machine(id).commands;
        expect(applied.slice(0, reference.length)).toEqual(reference.slice(0, applied.length));
        const set = new Set(applied);
        const lost = sim.acknowledged.filter((c) => !set.has(c));
        expect(lost, `node ${id} lost acknowledged commands`).toEqual([]);
      }
      totals.terms += sim.leaders.size;
      totals.acknowledged += sim.acknowledged.length;
    });
  }
});
