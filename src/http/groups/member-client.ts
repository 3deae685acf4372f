// The one client the HTTP group members of a node share: a Rill client connected to this broker's
// own binary listener, made on the first member and closed with the HTTP API. Main thread.

import { type Admin } from '../../client/admin.js';
import { Rill } from '../../client/rill.js';
import { type Logger } from '../../logger.js';
import { type MemberClient } from './client-member-session.js';

export class LoopbackMemberClient implements MemberClient {
  private readonly address: () => string;
  private readonly logger: Logger;
  private client: Rill | null = null;
  private connectedAdmin: Promise<Admin> | null = null;

  /** `address`: "host:port" of this broker's binary listener (known once it listens). */
  constructor(address: () => string, logger: Logger) {
    this.address = address;
    this.logger = logger;
  }

  rill(): Rill {
    this.client ??= new Rill({ brokers: [this.address()], clientId: 'rill-http-groups', logger: this.logger.child({ component: 'http-groups-client' }) });
    return this.client;
  }

  admin(): Promise<Admin> {
    if (this.connectedAdmin === null) {
      const admin = this.rill().admin();
      const connecting = admin.connect().then(() => admin);
      // A failed connect is not kept: the next call tries again.
      connecting.catch(() => (this.connectedAdmin = null));
      this.connectedAdmin = connecting;
    }
    return this.connectedAdmin;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.connectedAdmin = null;
    await client?.close();
  }
}
