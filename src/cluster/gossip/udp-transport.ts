// Gossip over real UDP (node:dgram). Main thread only. One socket per node, bound to the given host
// (127.0.0.1 unless the operator configures another) and port (0 picks an ephemeral one).
//
// Send errors (EHOSTUNREACH, ECONNREFUSED reported by ICMP, a closed socket) are counted and
// otherwise ignored: gossip treats them as loss, which the protocol absorbs.

import { createSocket, type Socket } from 'node:dgram';
import type { GossipTransport } from './gossip-transport.js';

export class UdpTransport implements GossipTransport {
  readonly address: string;
  sendErrors = 0;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    host: string,
    port: number,
  ) {
    this.address = `${host}:${port}`;
    socket.on('error', () => this.sendErrors++);
  }

  /** Binds a socket; resolves once it listens. */
  static bind(host = '127.0.0.1', port = 0): Promise<UdpTransport> {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve(new UdpTransport(socket, host, socket.address().port));
      });
    });
  }

  send(to: string, datagram: Uint8Array): void {
    if (this.closed) return;
    const colon = to.lastIndexOf(':');
    const port = Number(to.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) {
      this.sendErrors++;
      return;
    }
    this.socket.send(datagram, port, to.slice(0, colon), (error) => {
      if (error) this.sendErrors++;
    });
  }

  listen(handler: (from: string, datagram: Uint8Array) => void): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', (msg, rinfo) => handler(`${rinfo.address}:${rinfo.port}`, msg));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
