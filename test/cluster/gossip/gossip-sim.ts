// A gossip cluster on the simulated network and virtual time. Test code only.

import { MemoryNetwork, type NetworkFaults } from '../../../src/cluster/memory-network.js';
import { memoryGossipTransport } from '../../../src/cluster/gossip/gossip-transport.js';
import type { MemberEvent } from '../../../src/cluster/gossip/member-list.js';
import { MemberState } from '../../../src/cluster/gossip/messages.js';
import { Swim, type SwimOptions } from '../../../src/cluster/gossip/swim.js';
import { seededRandom } from '../../../src/cluster/random.js';
import { VirtualClock } from '../../../src/cluster/virtual-clock.js';

export const gossipAddress = (id: number) => `sim-${id}:7946`;

export class GossipSim {
  readonly clock = new VirtualClock();
  readonly network: MemoryNetwork;
  readonly nodes = new Map<number, Swim>();
  /** Every event each node saw, in order. */
  readonly events = new Map<number, MemberEvent[]>();
  private readonly seed: number;

  constructor(seed: number, faults: Partial<NetworkFaults> = {}, private readonly overrides: Partial<SwimOptions> = {}) {
    this.seed = seed;
    this.network = new MemoryNetwork(this.clock, seededRandom(seed), { minDelayMs: 1, maxDelayMs: 10, ...faults });
  }

  start(id: number, seeds: number[] = [1]): Swim {
    const events: MemberEvent[] = this.events.get(id) ?? [];
    this.events.set(id, events);
    const swim = new Swim({
      id,
      clusterId: 'sim',
      self: { host: `sim-${id}`, ports: { broker: 9092, raft: 9093 }, rack: `rack-${id % 2}`, load: { partitions: id } },
      seeds: seeds.map(gossipAddress),
      transport: memoryGossipTransport(this.network, gossipAddress(id)),
      clock: this.clock,
      random: seededRandom(this.seed * 131 + id),
      onEvent: (e) => events.push(e),
      ...this.overrides,
    });
    this.nodes.set(id, swim);
    swim.start();
    return swim;
  }

  /** True when each running node holds exactly `ids` alive (itself included). */
  agree(ids: number[]): boolean {
    const want = [...ids].sort((a, b) => a - b).join(',');
    for (const id of ids) {
      const swim = this.nodes.get(id);
      if (swim === undefined) return false;
      const alive = swim.aliveMembers().map((m) => m.id).sort((a, b) => a - b).join(',');
      if (alive !== want) return false;
    }
    return true;
  }

  stateOf(observer: number, id: number): MemberState | undefined {
    return this.nodes.get(observer)!.member(id)?.state;
  }

  /** Events of `type` about `about` seen by anyone. */
  eventsAbout(about: number, type: MemberEvent['type']): MemberEvent[] {
    return [...this.events.values()].flat().filter((e) => e.member.id === about && e.type === type);
  }
}
