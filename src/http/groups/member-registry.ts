// The HTTP group members living on this node: created by POST /v1/groups/{group}/members, found by
// group and name, closed on DELETE, on idle expiry, and when the broker stops. Main thread.
//
// Bounded twice, as every queue here is: at most http.max.group.members members at once (each
// holds a group membership, heartbeats, and buffers fetched messages), and a member nobody has
// called for http.group.member.idle.ms is closed — it leaves its group, so its partitions go to
// members that are still alive, where a forgotten member would hold them until a restart (the
// Confluent REST proxy's consumer.instance.timeout.ms, for the same reason). Each call on a member
// renews it, and a member inside a call (a long poll) is never expired under it.

import { randomUUID } from 'node:crypto';
import { Errors, RillError } from '../../errors.js';
import { type Logger } from '../../logger.js';
import { type MemberSession, type MemberSessionFactory, type MemberSettings } from './member-session.js';

export interface MemberRegistryOptions {
  maxMembers: number;
  idleMs: number;
  factory: MemberSessionFactory;
  logger: Logger;
  /** For tests: the clock; default Date.now. */
  now?: () => number;
}

interface Entry {
  session: MemberSession;
  lastUsed: number;
  /** Calls in progress on the member. */
  busy: number;
}

/** Names are URL segments: keep them to what needs no escaping. */
const NAME = /^[A-Za-z0-9._-]{1,128}$/;

export class MemberRegistry {
  private readonly options: MemberRegistryOptions;
  private readonly members = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;
  private expiredCount = 0;

  constructor(options: MemberRegistryOptions) {
    this.options = options;
    const every = Math.max(100, Math.min(10_000, Math.floor(options.idleMs / 4)));
    this.sweeper = setInterval(() => void this.expire(), every);
    this.sweeper.unref();
  }

  get size(): number {
    return this.members.size;
  }

  /** Members closed for idleness so far (for /metrics). */
  get expired(): number {
    return this.expiredCount;
  }

  /** Creates a member; its name is given or made up. */
  create(settings: Omit<MemberSettings, 'name'> & { name?: string }): MemberSession {
    if (this.closed) throw new RillError(Errors.LEADER_NOT_AVAILABLE, 'the broker is stopping');
    const name = settings.name ?? `rill-http-${randomUUID()}`;
    if (!NAME.test(name)) throw new RillError(Errors.INVALID_REQUEST, `"name" must be 1-128 characters of [A-Za-z0-9._-], not ${JSON.stringify(name)}`);
    const key = keyOf(settings.groupId, name);
    if (this.members.has(key)) throw new RillError(Errors.GROUP_MEMBER_EXISTS, `group ${settings.groupId} already has an HTTP member named ${name} on this node`, { group: settings.groupId, name });
    if (this.members.size >= this.options.maxMembers) {
      throw new RillError(Errors.TOO_MANY_GROUP_MEMBERS, `this node already holds ${this.members.size} HTTP group members (http.max.group.members = ${this.options.maxMembers}); delete unused ones`, { limit: this.options.maxMembers });
    }
    const session = this.options.factory({ ...settings, name });
    this.members.set(key, { session, lastUsed: this.now(), busy: 0 });
    return session;
  }

  /** Runs `fn` on a member, renewing it; UNKNOWN_GROUP_MEMBER (404) if there is none. */
  async use<T>(groupId: string, name: string, fn: (session: MemberSession) => Promise<T>): Promise<T> {
    const entry = this.members.get(keyOf(groupId, name));
    if (entry === undefined) throw unknownMember(groupId, name);
    entry.busy++;
    entry.lastUsed = this.now();
    try {
      return await fn(entry.session);
    } finally {
      entry.busy--;
      entry.lastUsed = this.now();
    }
  }

  /** Closes a member (it commits if it auto-commits, and leaves the group) and forgets it. */
  async remove(groupId: string, name: string): Promise<void> {
    const key = keyOf(groupId, name);
    const entry = this.members.get(key);
    if (entry === undefined) throw unknownMember(groupId, name);
    this.members.delete(key);
    await entry.session.close();
  }

  /** Every member, for listings. */
  list(): MemberSession[] {
    return [...this.members.values()].map((e) => e.session);
  }

  /** Closes the members idle for longer than idleMs. */
  async expire(): Promise<void> {
    const now = this.now();
    const idle: [string, Entry][] = [];
    for (const [key, entry] of this.members) if (entry.busy === 0 && now - entry.lastUsed > this.options.idleMs) idle.push([key, entry]);
    for (const [key, entry] of idle) {
      this.members.delete(key);
      this.expiredCount++;
      const { groupId, name } = entry.session.settings;
      this.options.logger.info({ group: groupId, member: name, idleMs: now - entry.lastUsed }, 'HTTP group member expired: closed after its idle timeout');
      await entry.session.close().catch((error: unknown) => this.options.logger.warn({ err: error, group: groupId, member: name }, 'closing an expired HTTP group member failed'));
    }
  }

  /** Closes every member (the broker is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const entries = [...this.members.values()];
    this.members.clear();
    await Promise.all(entries.map((e) => e.session.close().catch(() => {})));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function keyOf(groupId: string, name: string): string {
  return `${groupId}\u0000${name}`;
}

function unknownMember(groupId: string, name: string): RillError {
  return new RillError(Errors.UNKNOWN_GROUP_MEMBER, `group ${groupId} has no HTTP member named ${name} on this node (deleted, expired after its idle timeout, or created on another node)`, { group: groupId, name });
}
