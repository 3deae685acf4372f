// A Raft cluster on the simulated network and virtual time, with a checker of Raft's safety
// properties. Test code only. Crashing a node drops its RaftServer (and whatever output it had not
// yet made durable) and keeps its MemoryRaftStorage; restarting builds a new server from it.

import { MemoryNetwork, type NetworkFaults } from '../../../src/cluster/memory-network.js';
import { seededRandom, type Random } from '../../../src/cluster/random.js';
import { RaftServer, type RaftStateMachine } from '../../../src/cluster/raft/raft-server.js';
import { MemoryRaftStorage } from '../../../src/cluster/raft/raft-storage.js';
import { memoryRaftTransport } from '../../../src/cluster/raft/raft-transport.js';
import { VirtualClock } from '../../../src/cluster/virtual-clock.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Applies commands (strings) to a list; its snapshot is the list. */
export class ListStateMachine implements RaftStateMachine<number> {
  commands: string[] = [];
  constructor(private readonly onApply: (index: number, term: number, command: string) => void) {}
  apply(command: Uint8Array, index: number, term: number): number {
    const text = decoder.decode(command);
    this.commands.push(text);
    this.onApply(index, term, text);
    return this.commands.length;
  }
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.commands));
  }
  restore(data: Uint8Array): void {
    this.commands = JSON.parse(decoder.decode(data)) as string[];
  }
}

interface SimNode {
  id: number;
  storage: MemoryRaftStorage;
  server: RaftServer<number> | null;
  machine: ListStateMachine | null;
}

export interface RaftSimOptions {
  seed: number;
  nodes: number;
  faults?: Partial<NetworkFaults>;
  tickMs?: number;
  snapshotEvery?: number;
}

export class RaftSim {
  readonly clock = new VirtualClock();
  readonly random: Random;
  readonly network: MemoryNetwork;
  readonly ids: number[];
  readonly nodes = new Map<number, SimNode>();
  readonly violations: string[] = [];
  /** Commands whose propose() resolved: they must never be lost. */
  readonly acknowledged: string[] = [];
  /** term -> the node that led it. */
  readonly leaders = new Map<number, number>();
  /** index -> "term:command" as first applied anywhere (state machine safety). */
  private readonly appliedAt = new Map<number, string>();
  private readonly tickMs: number;
  private readonly snapshotEvery: number;
  private commandSeq = 0;

  constructor(options: RaftSimOptions) {
    this.random = seededRandom(options.seed);
    this.network = new MemoryNetwork(this.clock, seededRandom(options.seed ^ 0x5eed), options.faults);
    this.tickMs = options.tickMs ?? 10;
    this.snapshotEvery = options.snapshotEvery ?? 25;
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    for (const id of this.ids) {
      this.nodes.set(id, { id, storage: new MemoryRaftStorage(), server: null, machine: null });
      this.start(id);
    }
  }

  start(id: number): void {
    const node = this.nodes.get(id)!;
    if (node.server !== null) return;
    const machine = new ListStateMachine((index, term, command) => this.recordApply(id, index, term, command));
    node.machine = machine;
    node.server = new RaftServer<number>({
      id,
      voters: this.ids,
      clusterId: 'sim',
      storage: node.storage,
      transport: memoryRaftTransport(this.network, id),
      stateMachine: machine,
      clock: this.clock,
      random: seededRandom(this.random.int(2 ** 31)),
      tickMs: this.tickMs,
      snapshotEvery: this.snapshotEvery,
      onStateChange: (s) => {
        if (s.role === 'leader') this.recordLeader(id, s.term);
      },
    });
  }

  crash(id: number): void {
    const node = this.nodes.get(id)!;
    node.server?.stop({ flush: false });
    node.server = null;
    node.machine = null;
  }

  get live(): number[] {
    return this.ids.filter((id) => this.nodes.get(id)!.server !== null);
  }

  server(id: number): RaftServer<number> {
    const server = this.nodes.get(id)!.server;
    if (server === null) throw new Error(`node ${id} is down`);
    return server;
  }

  machine(id: number): ListStateMachine {
    return this.nodes.get(id)!.machine!;
  }

  /** Live nodes that believe they lead. */
  currentLeaders(): number[] {
    return this.live.filter((id) => this.server(id).isLeader);
  }

  /** Proposes a fresh command at node `id` (default: a current leader); acknowledged ones are recorded. */
  propose(id?: number): { command: string; result: Promise<number> | null } {
    const command = `c${++this.commandSeq}`;
    const target = id ?? this.currentLeaders()[0];
    if (target === undefined || this.nodes.get(target)!.server === null) return { command, result: null };
    const result = this.server(target).propose(encoder.encode(command));
    result.then(
      () => this.acknowledged.push(command),
      () => {},
    );
    return { command, result };
  }

  /** Runs until exactly one live leader is known to all live nodes; returns the time taken or null. */
  runUntilStableLeader(limitMs: number): number | null {
    return this.clock.runUntilTrue(() => {
      const leaders = this.currentLeaders();
      if (leaders.length !== 1) return false;
      return this.live.every((id) => this.server(id).status().leaderId === leaders[0]);
    }, limitMs, this.tickMs);
  }

  /** Log matching: two logs with an entry of the same index and term agree on every entry before it. */
  checkLogMatching(): void {
    const live = this.live;
    for (let a = 0; a < live.length; a++) {
      for (let b = a + 1; b < live.length; b++) {
        const x = this.server(live[a]);
        const y = this.server(live[b]);
        const top = Math.min(x.status().lastIndex, y.status().lastIndex);
        let matched = false;
        for (let i = top; i >= 1; i--) {
          const tx = x.termAt(i);
          const ty = y.termAt(i);
          if (tx === undefined || ty === undefined) break; // compacted: committed, checked by appliedAt
          if (matched && tx !== ty) this.violations.push(`log matching: nodes ${live[a]} and ${live[b]} agree above ${i} but differ at ${i}`);
          if (tx === ty) matched = true;
        }
      }
    }
  }

  private recordLeader(id: number, term: number): void {
    const previous = this.leaders.get(term);
    if (previous !== undefined && previous !== id) this.violations.push(`election safety: term ${term} has leaders ${previous} and ${id}`);
    this.leaders.set(term, id);
    // Leader completeness: every entry applied anywhere so far is in the new leader's log.
    const server = this.nodes.get(id)!.server;
    if (server === null) return;
    for (const [index, value] of this.appliedAt) {
      const term = server.termAt(index);
      if (term === undefined) {
        if (index > server.status().snapshotIndex) this.violations.push(`leader completeness: leader ${id} lacks committed index ${index}`);
      } else if (`${term}` !== value.slice(0, value.indexOf(':'))) {
        this.violations.push(`leader completeness: leader ${id} has term ${term} at committed index ${index} (${value})`);
      }
    }
  }

  private recordApply(id: number, index: number, term: number, command: string): void {
    const value = `${term}:${command}`;
    const seen = this.appliedAt.get(index);
    if (seen === undefined) this.appliedAt.set(index, value);
    else if (seen !== value) this.violations.push(`state machine safety: node ${id} applied ${value} at ${index}, another node ${seen}`);
  }
}
