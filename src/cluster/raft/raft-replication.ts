// The log-replication half of a Raft node: the follower's side (appends, snapshots, the hint
// that lets a leader skip back a whole conflicting term) and the leader's (what to send each peer,
// retransmission by heartbeat, commit by quorum). Elections live in raft-node.ts. Pure, no I/O.
// Main thread only (whichever thread owns the RaftServer that drives it).

import type { AppendRequest, AppendResponse, LogEntry, SnapshotRequest, SnapshotResponse } from './messages.js';
import { quorumValue } from './progress.js';
import { RaftCore } from './raft-core.js';

export abstract class RaftReplication extends RaftCore {
  // --- replication: follower side --------------------------------------------------------------------

  protected onAppend(m: AppendRequest): void {
    let prevIndex = m.prevLogIndex;
    let prevTerm = m.prevLogTerm;
    let entries = m.entries;
    const snap = this.log.snapshot;
    if (prevIndex < snap.lastIndex) {
      // The start is already in our snapshot, hence committed, hence the same as the leader's.
      entries = entries.filter((e) => e.index > snap.lastIndex);
      prevIndex = snap.lastIndex;
      prevTerm = snap.lastTerm;
    }
    const ourPrevTerm = this.termAt(prevIndex);
    if (ourPrevTerm !== prevTerm) {
      this.send({
        type: 'append-response', from: this.id, to: m.from, term: this.currentTerm, success: false,
        matchIndex: 0, rejectedIndex: m.prevLogIndex, hintIndex: this.rejectHint(prevIndex, ourPrevTerm), sentAt: m.sentAt,
      });
      return;
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const ours = this.termAt(entry.index);
      if (ours === entry.term) continue; // a duplicate or reordered resend
      if (ours !== undefined) {
        if (entry.index <= this.commit) throw new Error(`Raft safety violated: leader ${m.from} overwrites committed index ${entry.index}`);
        this.truncateFrom(entry.index);
      }
      for (let j = i; j < entries.length; j++) this.appendEntry(entries[j]);
      break;
    }
    const lastNew = m.prevLogIndex + m.entries.length;
    const commit = Math.min(m.leaderCommit, lastNew);
    if (commit > this.commit) {
      this.commit = commit;
      this.applyCommitted();
    }
    this.send({
      type: 'append-response', from: this.id, to: m.from, term: this.currentTerm, success: true,
      matchIndex: lastNew, rejectedIndex: 0, hintIndex: 0, sentAt: m.sentAt,
    });
  }

  /** Where the leader should retry: our end if we are short, else before the conflicting term. */
  protected rejectHint(prevIndex: number, ourPrevTerm: number | undefined): number {
    if (ourPrevTerm === undefined) return this.lastIndex;
    let i = prevIndex;
    while (i - 1 > this.log.snapshotIndex && this.termAt(i - 1) === ourPrevTerm) i--;
    return i - 1;
  }

  protected onSnapshot(m: SnapshotRequest): void {
    if (m.lastIndex > this.commit) {
      // Stored entries the snapshot does not keep must go from the disk too.
      if (this.termAt(m.lastIndex) !== m.lastTerm) this.truncateFrom(this.log.snapshotIndex + 1);
      const snapshot = { lastIndex: m.lastIndex, lastTerm: m.lastTerm, data: m.data };
      this.log.install(snapshot);
      this.out.snapshot = snapshot;
      this.out.append = this.out.append.filter((e) => e.index > m.lastIndex);
      this.out.restore = snapshot;
      this.out.committed = [];
      this.commit = m.lastIndex;
      this.applied = m.lastIndex;
    }
    // Everything up to our commit index matches the leader: committed entries are in every leader's log.
    this.send({ type: 'snapshot-response', from: this.id, to: m.from, term: this.currentTerm, matchIndex: this.commit, sentAt: m.sentAt });
  }

  // --- replication: leader side ---------------------------------------------------------------------

  protected sendAppend(peer: number, heartbeat: boolean): void {
    const p = this.progress.get(peer)!;
    if (p.next <= this.log.snapshotIndex) {
      const s = this.log.snapshot;
      this.send({ type: 'snapshot', from: this.id, to: peer, term: this.currentTerm, lastIndex: s.lastIndex, lastTerm: s.lastTerm, sentAt: this.now, data: s.data });
      p.inflight = true;
      return;
    }
    // While entries are unanswered, a heartbeat resends them: that is the retransmission after loss.
    const entries: LogEntry[] = [];
    if (!p.inflight || heartbeat) {
      let bytes = 0;
      for (let i = p.next; i <= this.lastIndex && entries.length < this.maxEntries; i++) {
        const entry = this.entryAt(i)!;
        if (entries.length > 0 && bytes + entry.data.length > this.maxBytes) break;
        bytes += entry.data.length;
        entries.push(entry);
      }
    }
    const prevLogIndex = p.next - 1;
    this.send({
      type: 'append', from: this.id, to: peer, term: this.currentTerm, prevLogIndex, prevLogTerm: this.termAt(prevLogIndex)!,
      leaderCommit: this.commit, sentAt: this.now, entries,
    });
    if (entries.length > 0) p.inflight = true;
  }

  // Only a response that moves a peer on may trigger a send: answering stale or duplicated
  // responses with sends would let every duplicate on the network start a chain of its own.
  protected onAppendResponse(m: AppendResponse): void {
    if (this.currentRole !== 'leader') return;
    const p = this.progress.get(m.from);
    if (p === undefined) return; // a learner removed since
    p.lastAckAt = Math.max(p.lastAckAt, m.sentAt);
    if (m.success) {
      if (m.matchIndex <= p.match) return;
      p.match = m.matchIndex;
      p.next = Math.max(p.next, p.match + 1);
      this.maybeCommit();
    } else {
      if (m.rejectedIndex !== p.next - 1) return; // answer to an older request
      const next = Math.max(p.match + 1, Math.min(m.hintIndex + 1, p.next - 1));
      if (next === p.next) return;
      p.next = next;
    }
    p.inflight = false;
    if (p.next <= this.lastIndex) this.sendAppend(m.from, false);
  }

  protected onSnapshotResponse(m: SnapshotResponse): void {
    if (this.currentRole !== 'leader') return;
    const p = this.progress.get(m.from);
    if (p === undefined) return;
    p.lastAckAt = Math.max(p.lastAckAt, m.sentAt);
    if (m.matchIndex <= p.match && p.next > this.log.snapshotIndex) return;
    p.match = Math.max(p.match, m.matchIndex);
    p.next = Math.max(p.next, p.match + 1);
    p.inflight = false;
    this.maybeCommit();
    if (p.next <= this.lastIndex) this.sendAppend(m.from, false);
  }

  protected maybeCommit(): void {
    const n = quorumValue(this.voters.map((v) => (v === this.id ? this.lastIndex : this.progress.get(v)!.match)), this.quorum);
    if (n > this.commit && this.termAt(n) === this.currentTerm) {
      this.commit = n;
      this.applyCommitted();
    }
  }

  /** The newest time by which a majority (this leader included) had acknowledged a request. */
  protected quorumAckAt(): number {
    return quorumValue(this.voters.map((v) => (v === this.id ? this.now : this.progress.get(v)!.lastAckAt)), this.quorum);
  }
}
