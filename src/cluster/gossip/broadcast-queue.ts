// News waiting to be piggybacked on gossip datagrams. Main thread only (the Swim instance's).
//
// SWIM disseminates by infection: each update rides on the next outgoing pings and acks until it
// has been sent `limit` times, which the protocol sets to retransmitMult * ceil(log2(n + 1)) — enough
// for news to reach every member with high probability (SWIM section 4.1), bounded so the queue
// cannot grow with time. The least-sent updates go first, so fresh news overtakes old; a newer
// update about a member replaces the queued one.

import type { MemberUpdate } from './messages.js';

interface Queued {
  update: MemberUpdate;
  sent: number;
  /** Insertion order, to break ties by age (newest first). */
  order: number;
}

export class BroadcastQueue {
  private readonly byMember = new Map<number, Queued>();
  private order = 0;

  enqueue(update: MemberUpdate): void {
    this.byMember.set(update.id, { update, sent: 0, order: this.order++ });
  }

  /** The queued update about `id`, if any. */
  about(id: number): MemberUpdate | undefined {
    return this.byMember.get(id)?.update;
  }

  /** Up to `max` updates for one datagram; each counts as sent once more, and retires at `limit`. */
  take(max: number, limit: number, first?: MemberUpdate): MemberUpdate[] {
    const picked = [...this.byMember.values()].sort((a, b) => a.sent - b.sent || b.order - a.order).slice(0, max);
    const out: MemberUpdate[] = first === undefined ? [] : [first];
    for (const q of picked) {
      if (out.length >= max) break;
      if (first !== undefined && q.update.id === first.id) continue;
      out.push(q.update);
      if (++q.sent >= limit) this.byMember.delete(q.update.id);
    }
    return out;
  }

  get size(): number {
    return this.byMember.size;
  }
}
