// An in-process datagram network on virtual time, for the deterministic simulations of gossip and
// Raft and for the simulation-level benchmark. Single-threaded.
//
// Faults, all drawn from the injected seeded Random so a run replays from its seed:
//   loss       each datagram is dropped with this probability
//   duplicate  each delivered datagram is delivered a second time with this probability
//   delay      uniform in [minDelayMs, maxDelayMs]; a spread larger than the send interval reorders
//   partition  endpoints on different sides cannot reach each other (checked at send and delivery,
//              so datagrams in flight when a cut starts are lost, as on a real network)
// Payloads are bytes, copied at send: the receiver never shares memory with the sender, so the
// protocol codecs are exercised exactly as over UDP or TCP.

import type { Random } from './random.js';
import type { VirtualClock } from './virtual-clock.js';

export interface NetworkFaults {
  loss: number;
  duplicate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const NO_FAULTS: NetworkFaults = Object.freeze({ loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 1 });

export type DatagramHandler = (from: string, payload: Uint8Array) => void;

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  bytesSent: number;
}

export interface MemoryEndpoint {
  readonly address: string;
  send(to: string, payload: Uint8Array): void;
  close(): void;
}

export class MemoryNetwork {
  faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, bytesSent: 0 };
  /** Bytes sent by each endpoint since it attached (for bandwidth figures). */
  readonly bytesSentBy = new Map<string, number>();
  private readonly handlers = new Map<string, DatagramHandler>();
  /** Endpoint -> side number while a partition is in force. */
  private sides: Map<string, number> | null = null;

  constructor(
    private readonly clock: VirtualClock,
    private readonly random: Random,
    faults: Partial<NetworkFaults> = {},
  ) {
    this.faults = { ...NO_FAULTS, ...faults };
  }

  attach(address: string, handler: DatagramHandler): MemoryEndpoint {
    if (this.handlers.has(address)) throw new Error(`address ${address} is already attached`);
    this.handlers.set(address, handler);
    return {
      address,
      send: (to, payload) => this.send(address, to, payload),
      close: () => {
        if (this.handlers.get(address) === handler) this.handlers.delete(address);
      },
    };
  }

  /** Cuts the network into sides; an endpoint on no side is cut off from everyone. */
  partition(...sides: readonly (readonly string[])[]): void {
    this.sides = new Map();
    sides.forEach((side, i) => side.forEach((address) => this.sides!.set(address, i)));
  }

  heal(): void {
    this.sides = null;
  }

  canReach(from: string, to: string): boolean {
    if (this.sides === null) return true;
    const a = this.sides.get(from);
    return a !== undefined && a === this.sides.get(to);
  }

  private send(from: string, to: string, payload: Uint8Array): void {
    this.stats.sent++;
    this.stats.bytesSent += payload.length;
    this.bytesSentBy.set(from, (this.bytesSentBy.get(from) ?? 0) + payload.length);
    if (!this.canReach(from, to) || this.random.next() < this.faults.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = this.random.next() < this.faults.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const bytes = payload.slice();
      const { minDelayMs, maxDelayMs } = this.faults;
      const delay = minDelayMs + this.random.next() * (maxDelayMs - minDelayMs);
      this.clock.setTimer(delay, () => this.deliver(from, to, bytes));
    }
  }

  private deliver(from: string, to: string, payload: Uint8Array): void {
    const handler = this.handlers.get(to);
    if (handler === undefined || !this.canReach(from, to)) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    handler(from, payload);
  }
}
