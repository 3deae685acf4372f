// The membership table and SWIM's rules for which news wins. Main thread only (the Swim
// instance's). Pure: no I/O, no timers; the Swim protocol feeds it updates and acts on the events.
//
// Precedence (SWIM section 4.2, with memberlist's handling of DEAD and LEFT), for a member other
// than ourselves, given the incarnation we hold for it:
//   ALIVE(i)    wins over anything held with a lower incarnation (a refutation, or a rejoin)
//   SUSPECT(i)  wins over ALIVE with i >= held, and over SUSPECT with i > held
//   DEAD(i)     wins over ALIVE or SUSPECT with i >= held
//   LEFT(i)     wins over ALIVE, SUSPECT or DEAD with i >= held (a graceful leave is final news)
// News about unknown members is ignored unless it is ALIVE (it carries the member's addresses).
// Only the member itself raises its incarnation, so the highest incarnation is always its own word.

import { MemberState, type MemberInfo, type MemberUpdate } from './messages.js';

export interface Member {
  readonly id: number;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly info: MemberInfo;
  /** Clock time of the last state change. */
  readonly since: number;
}

export type MemberEventType = 'joined' | 'alive' | 'updated' | 'suspect' | 'dead' | 'left';

export interface MemberEvent {
  readonly type: MemberEventType;
  readonly member: Member;
}

export class MemberList {
  private readonly byId = new Map<number, Member>();

  constructor(readonly selfId: number) {}

  get(id: number): Member | undefined {
    return this.byId.get(id);
  }

  all(): Member[] {
    return [...this.byId.values()];
  }

  /** Members other than ourselves in one of `states`. */
  others(...states: MemberState[]): Member[] {
    return this.all().filter((m) => m.id !== this.selfId && states.includes(m.state));
  }

  get size(): number {
    return this.byId.size;
  }

  /** Sets our own entry (our word is final about ourselves). */
  setSelf(state: MemberState, incarnation: number, info: MemberInfo, now: number): void {
    this.byId.set(this.selfId, { id: this.selfId, state, incarnation, info, since: now });
  }

  /**
   * Applies news about another member. Returns the event when it changed what we hold (the caller
   * then passes the news on), or null when it was old or redundant.
   */
  apply(u: MemberUpdate, now: number): MemberEvent | null {
    if (u.id === this.selfId) throw new Error('news about ourselves is the protocol’s to answer');
    const held = this.byId.get(u.id);
    if (held === undefined) {
      if (u.state !== MemberState.ALIVE || u.info === null) return null;
      return this.set({ id: u.id, state: u.state, incarnation: u.incarnation, info: u.info, since: now }, 'joined');
    }
    switch (u.state) {
      case MemberState.ALIVE: {
        if (u.incarnation <= held.incarnation || u.info === null) return null;
        const type = held.state === MemberState.ALIVE ? 'updated' : 'alive';
        const since = held.state === MemberState.ALIVE ? held.since : now;
        return this.set({ ...held, state: MemberState.ALIVE, incarnation: u.incarnation, info: u.info, since }, type);
      }
      case MemberState.SUSPECT:
        if (held.state === MemberState.ALIVE ? u.incarnation < held.incarnation : held.state !== MemberState.SUSPECT || u.incarnation <= held.incarnation) {
          return null;
        }
        return this.set({ ...held, state: MemberState.SUSPECT, incarnation: u.incarnation, since: held.state === MemberState.SUSPECT ? held.since : now }, 'suspect');
      case MemberState.DEAD:
        if ((held.state !== MemberState.ALIVE && held.state !== MemberState.SUSPECT) || u.incarnation < held.incarnation) return null;
        return this.set({ ...held, state: MemberState.DEAD, incarnation: u.incarnation, since: now }, 'dead');
      case MemberState.LEFT:
        if (held.state === MemberState.LEFT || u.incarnation < held.incarnation) return null;
        return this.set({ ...held, state: MemberState.LEFT, incarnation: u.incarnation, since: now }, 'left');
    }
  }

  /** Forgets dead and departed members whose news is older than `before` (they may rejoin afresh). */
  prune(before: number): Member[] {
    const removed: Member[] = [];
    for (const m of this.byId.values()) {
      if ((m.state === MemberState.DEAD || m.state === MemberState.LEFT) && m.since < before && m.id !== this.selfId) {
        this.byId.delete(m.id);
        removed.push(m);
      }
    }
    return removed;
  }

  /** Our table as news: what a SYNC carries. */
  asUpdates(): MemberUpdate[] {
    return this.all().map(toUpdate);
  }

  private set(member: Member, type: MemberEventType): MemberEvent {
    this.byId.set(member.id, member);
    return { type, member };
  }
}

export function toUpdate(m: Member): MemberUpdate {
  return { state: m.state, id: m.id, incarnation: m.incarnation, info: m.state === MemberState.ALIVE ? m.info : null, by: null };
}
