// How gossip datagrams travel. Main thread only. Swim sees only this interface: the broker plugs
// in udp-transport.ts, the simulations memoryGossipTransport over the in-memory network.
// Datagrams may be lost, duplicated or reordered; send never throws and never blocks.

import type { MemoryNetwork } from '../memory-network.js';

export interface GossipTransport {
  /** Where others reach us, "host:port": what we advertise as our gossip address. */
  readonly address: string;
  send(to: string, datagram: Uint8Array): void;
  /** Sets the receiver; `from` is the sender's address as the network reports it. */
  listen(handler: (from: string, datagram: Uint8Array) => void): void;
  close(): void;
}

/** A GossipTransport on the simulated network, at `address`. */
export function memoryGossipTransport(network: MemoryNetwork, address: string): GossipTransport {
  let handler: (from: string, datagram: Uint8Array) => void = () => {};
  const endpoint = network.attach(address, (from, payload) => handler(from, payload));
  return {
    address,
    send: (to, datagram) => endpoint.send(to, datagram),
    listen: (h) => {
      handler = h;
    },
    close: () => endpoint.close(),
  };
}
