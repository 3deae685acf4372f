// SWIM on the simulated network and virtual time: convergence under heavy loss, detection of a
// killed member, refutation of a false suspicion, graceful leave, rejoin after being declared dead,
// healing after a partition, and resistance to foreign and malformed datagrams.

import { describe, expect, it } from 'vitest';
import { encodeEnvelope } from '../../../src/cluster/envelope.js';
import { MemberState } from '../../../src/cluster/gossip/messages.js';
import { GossipSim, gossipAddress } from './gossip-sim.js';

const IDS = [1, 2, 3, 4, 5];
const LIMIT_MS = 60_000;

function converged(seed: number, loss = 0.2): GossipSim {
  const sim = new GossipSim(seed, { loss });
  for (const id of IDS) sim.start(id);
  expect(sim.clock.runUntilTrue(() => sim.agree(IDS), LIMIT_MS, 50), 'converges').not.toBeNull();
  return sim;
}

describe('SWIM gossip', () => {
  for (const seed of Array.from({ length: Number(process.env.GOSSIP_SIM_SEEDS ?? 20) }, (_, i) => i + 1)) {
    it(`seed ${seed}: 5 members under 20% packet loss converge and stay converged`, () => {
      const sim = converged(seed);
      // A minute of protocol periods at 20% loss: suspicions happen and are refuted; nobody is
      // declared dead, and every view ends whole.
      sim.clock.runFor(60_000);
      for (const id of IDS) expect(sim.eventsAbout(id, 'dead')).toEqual([]);
      expect(sim.clock.runUntilTrue(() => sim.agree(IDS), LIMIT_MS, 50)).not.toBeNull();
      // Members' own facts arrived with them.
      const seen = sim.nodes.get(2)!.member(5)!;
      expect(seen.info).toMatchObject({ address: gossipAddress(5), host: 'sim-5', ports: { broker: 9092, raft: 9093 }, rack: 'rack-1', load: { partitions: 5 } });
    });
  }

  for (const seed of [11, 12, 13]) {
    it(`seed ${seed}: a killed member is declared dead by everyone`, () => {
      const sim = converged(seed);
      sim.nodes.get(3)!.stop();
      const others = IDS.filter((id) => id !== 3);
      const took = sim.clock.runUntilTrue(() => others.every((id) => sim.stateOf(id, 3) === MemberState.DEAD), LIMIT_MS, 50);
      expect(took).not.toBeNull();
      expect(sim.clock.runUntilTrue(() => sim.agree(others), LIMIT_MS, 50)).not.toBeNull();
    });
  }

  it('a falsely suspected member refutes the suspicion and is never declared dead', () => {
    const sim = converged(21, 0);
    const others = IDS.filter((id) => id !== 4).map(gossipAddress);
    // Cut member 4 off for less than the suspicion timeout (4 periods = 2 s here).
    sim.network.partition(others, [gossipAddress(4)]);
    expect(sim.clock.runUntilTrue(() => IDS.some((id) => id !== 4 && sim.stateOf(id, 4) === MemberState.SUSPECT), LIMIT_MS, 10)).not.toBeNull();
    sim.network.heal();
    expect(sim.clock.runUntilTrue(() => sim.agree(IDS), LIMIT_MS, 10)).not.toBeNull();
    sim.clock.runFor(10_000);
    expect(sim.eventsAbout(4, 'dead')).toEqual([]);
    expect(sim.nodes.get(4)!.stats.refutations).toBeGreaterThan(0);
    expect(sim.nodes.get(1)!.member(4)!.incarnation).toBeGreaterThan(0);
    expect(sim.agree(IDS)).toBe(true);
  });

  it('a member that leaves is marked LEFT without being suspected', async () => {
    const sim = converged(31, 0);
    let done = false;
    void sim.nodes.get(5)!.leave().then(() => (done = true));
    const others = IDS.filter((id) => id !== 5);
    expect(sim.clock.runUntilTrue(() => others.every((id) => sim.stateOf(id, 5) === MemberState.LEFT), LIMIT_MS, 10)).not.toBeNull();
    sim.clock.runFor(2_000);
    await Promise.resolve();
    expect(done).toBe(true);
    expect(sim.eventsAbout(5, 'suspect')).toEqual([]);
    expect(sim.eventsAbout(5, 'dead')).toEqual([]);
  });

  it('a member restarted after being declared dead rejoins with a higher incarnation', () => {
    const sim = converged(41, 0.05);
    sim.nodes.get(2)!.stop();
    expect(sim.clock.runUntilTrue(() => sim.stateOf(1, 2) === MemberState.DEAD, LIMIT_MS, 50)).not.toBeNull();
    sim.start(2, [1]); // the same id at the same address
    expect(sim.clock.runUntilTrue(() => sim.agree(IDS), LIMIT_MS, 50)).not.toBeNull();
    expect(sim.nodes.get(1)!.member(2)!.incarnation).toBeGreaterThan(0);
  });

  it('both sides of a healed partition find each other again', () => {
    const sim = converged(51, 0.05);
    sim.network.partition([1, 2, 3].map(gossipAddress), [4, 5].map(gossipAddress));
    expect(sim.clock.runUntilTrue(() => sim.agree([1, 2, 3]) && sim.agree([4, 5]), LIMIT_MS, 50)).not.toBeNull();
    sim.network.heal();
    // Anti-entropy reaches members held dead within a sync interval or two.
    expect(sim.clock.runUntilTrue(() => sim.agree(IDS), 5 * LIMIT_MS, 50)).not.toBeNull();
  });

  it('updated load figures reach every member', () => {
    const sim = converged(61, 0.1);
    sim.nodes.get(3)!.updateSelf({ load: { partitions: 42, bytesInPerSec: 1e6 } });
    expect(sim.clock.runUntilTrue(() => IDS.every((id) => sim.nodes.get(id)!.member(3)!.info.load.partitions === 42), LIMIT_MS, 50)).not.toBeNull();
  });

  it('drops and counts foreign, unknown-version and malformed datagrams', () => {
    const sim = converged(71, 0);
    const intruder = sim.network.attach('intruder:1', () => {});
    const target = gossipAddress(1);
    intruder.send(target, encodeEnvelope('other-cluster', 1, 1, [1, 9, 1, []]));
    intruder.send(target, encodeEnvelope('sim', 99, 1, [1, 9, 1, []]));
    intruder.send(target, new Uint8Array([0xc1, 0xff, 0x00]));
    intruder.send(target, encodeEnvelope('sim', 1, 1, [1, 9, 1, [[7, 1, 1, null]]]));
    intruder.send(target, encodeEnvelope('sim', 1, 4, [9, false, [[0, 9, 0, ['a', 'b', { p: 'x' }, null, {}]]]]));
    sim.clock.runFor(100);
    const drops = sim.nodes.get(1)!.drops;
    expect({ foreign: drops.foreignCluster, version: drops.unsupportedVersion, malformed: drops.malformed }).toEqual({ foreign: 1, version: 1, malformed: 3 });
    sim.clock.runFor(5_000);
    expect(sim.agree(IDS)).toBe(true);
  });
});
