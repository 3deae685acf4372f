// One member of a Raft group as a pure state machine: no I/O, no timers, no clock. Main thread
// only (whichever thread owns the RaftServer that drives it).
//
// Inputs: tick() (one unit of logical time; the driver calls it every tickMs), step(message),
// propose(data), compact(index, snapshot). Each may leave work in the node's output, which the
// driver drains with takeOutput() and must carry out in this order:
//
//   1. make `hardState`, `snapshot`, `truncateFrom` and `append` durable (fsync) — raft-storage.ts
//   2. send `messages`
//   3. load `restore` (if any) into the state machine, then apply `committed` in order
//
// and it must finish 1 before it delivers the next input's messages. That contract is what makes
// the node's promises (a vote, an acknowledged entry) survive a crash: nothing leaves the node
// before the state it depends on is on disk.
//
// Beyond the Raft paper, following Ongaro's thesis:
// - Pre-vote (9.6): a node whose election timer fires first asks "would you vote for me?" without
//   raising its term, so a node cut off by a partition does not come back and depose a healthy
//   leader with an inflated term.
// - Leader stickiness (4.2.3): a voter that heard from a leader within the minimum election
//   timeout ignores vote requests. A restarted node does so for one timeout after it starts, since
//   it cannot remember whom it last heard from.
// - Check-quorum: a leader that has not heard from a majority for an election timeout steps down,
//   so a leader on the minority side of a split stops accepting proposals (the stale-leader
//   fence); its term is the controller epoch that brokers use to fence its late requests.
// - Leader lease (6.4): given stickiness, a leader that heard from a majority, counted from when
//   it sent them the request, less than leaseTicks ago can answer reads locally (hasLease()).
// - Snapshots (5): compact(index, data) drops the log up to an applied index; a follower too far
//   behind receives the snapshot whole.
//
// Membership is fixed by `voters` (the controller voters); a node whose id is not among them never
// campaigns. Changing the voter set is not supported yet. Learners (setLearners, the broker feeds
// it every live non-voter that gossip knows) receive the log like followers but count towards no
// quorum, neither for commits nor for the lease: that is how every node applies the committed
// metadata log without slowing the controller's commits down.

import { EntryKind, type AppendRequest, type AppendResponse, type LogEntry, type RaftMessage, type SnapshotRequest, type SnapshotResponse, type VoteRequest, type VoteResponse } from './messages.js';
import type { Random } from '../random.js';
import { RaftLog } from './raft-log.js';
import { newProgress, quorumValue, type Progress } from './progress.js';
import { EMPTY_DURABLE_STATE, RAFT_DEFAULTS, emptyOutput, type DurableState, type ProposeResult, type RaftConfig, type RaftOutput, type RaftRole } from './raft-state.js';

export { EMPTY_DURABLE_STATE, EMPTY_SNAPSHOT, RAFT_DEFAULTS, type DurableState, type HardState, type ProposeResult, type RaftConfig, type RaftOutput, type RaftRole, type Snapshot } from './raft-state.js';


export class RaftNode {
  readonly id: number;
  readonly voters: readonly number[];
  /** The other voters: they vote and count towards commits. */
  private readonly peers: readonly number[];
  /** Non-voters the leader replicates to (setLearners). */
  private learnerIds: readonly number[] = [];
  private readonly quorum: number;
  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly leaseTicks: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly preVote: boolean;
  private readonly random: Random;

  private currentTerm: number;
  private votedFor: number | null;
  private readonly log: RaftLog;
  private commit: number;
  private applied: number;

  private currentRole: RaftRole = 'follower';
  private leader: number | null = null;
  private now = 0;
  private electionElapsed = 0;
  private electionTimeout = 0;
  private heartbeatElapsed = 0;
  private readonly votes = new Set<number>();
  private readonly progress = new Map<number, Progress>();
  /** Index of this leader's first entry (its no-op); the lease holds only once it is committed. */
  private termStartIndex = 0;

  private out: RaftOutput = emptyOutput();

  constructor(config: RaftConfig, durable: DurableState = EMPTY_DURABLE_STATE) {
    this.id = config.id;
    this.voters = [...new Set(config.voters)].sort((a, b) => a - b);
    this.peers = this.voters.filter((v) => v !== this.id);
    this.quorum = Math.floor(this.voters.length / 2) + 1;
    this.electionTicks = config.electionTicks ?? RAFT_DEFAULTS.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks ?? RAFT_DEFAULTS.heartbeatTicks;
    this.leaseTicks = config.leaseTicks ?? Math.max(1, Math.floor(this.electionTicks * 0.8));
    this.maxEntries = config.maxEntriesPerAppend ?? RAFT_DEFAULTS.maxEntriesPerAppend;
    this.maxBytes = config.maxBytesPerAppend ?? RAFT_DEFAULTS.maxBytesPerAppend;
    this.preVote = config.preVote ?? true;
    this.random = config.random;
    if (this.heartbeatTicks >= this.electionTicks) throw new RangeError('heartbeatTicks must be below electionTicks');
    if (this.leaseTicks >= this.electionTicks) throw new RangeError('leaseTicks must be below electionTicks');

    this.currentTerm = durable.hardState.term;
    this.votedFor = durable.hardState.votedFor;
    this.log = new RaftLog(durable.snapshot, durable.entries);
    this.commit = this.log.snapshotIndex;
    this.applied = this.log.snapshotIndex;
    this.resetElectionTimer();
  }

  // --- observers -----------------------------------------------------------------------------------

  get term(): number {
    return this.currentTerm;
  }
  get role(): RaftRole {
    return this.currentRole;
  }
  /** The leader of the current term as far as this node knows, or null. */
  get leaderId(): number | null {
    return this.leader;
  }
  get commitIndex(): number {
    return this.commit;
  }
  get lastIndex(): number {
    return this.log.lastIndex;
  }
  get snapshotIndex(): number {
    return this.log.snapshotIndex;
  }
  get isVoter(): boolean {
    return this.voters.includes(this.id);
  }

  get learners(): readonly number[] {
    return this.learnerIds;
  }

  /** Voters and learners other than this node: everyone a leader replicates to. */
  private get targets(): readonly number[] {
    return this.learnerIds.length === 0 ? this.peers : [...this.peers, ...this.learnerIds];
  }

  /**
   * The non-voters to replicate to. Voters and this node are ignored. A leader starts sending to a
   * new learner at once (its progress probes back from the leader's end) and forgets removed ones.
   */
  setLearners(ids: readonly number[]): void {
    const next = [...new Set(ids)].filter((id) => id !== this.id && !this.voters.includes(id)).sort((a, b) => a - b);
    if (next.length === this.learnerIds.length && next.every((id, i) => id === this.learnerIds[i])) return;
    const added = next.filter((id) => !this.learnerIds.includes(id));
    for (const gone of this.learnerIds) if (!next.includes(gone)) this.progress.delete(gone);
    this.learnerIds = next;
    if (this.currentRole !== 'leader') return;
    for (const id of added) {
      this.progress.set(id, newProgress(this.lastIndex, this.now));
      this.sendAppend(id, false);
    }
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or beyond the log. */
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** The entry at `index`, or undefined when compacted away or beyond the log. */
  entryAt(index: number): LogEntry | undefined {
    return this.log.entryAt(index);
  }

  /**
   * True while this leader may answer reads from its own state: its no-op is committed (so it has
   * every committed entry) and a majority acknowledged a request it sent less than leaseTicks ago
   * (so, by stickiness, none of them will help elect another leader before the lease runs out).
   */
  hasLease(): boolean {
    if (this.currentRole !== 'leader' || this.commit < this.termStartIndex) return false;
    return this.now - this.quorumAckAt() < this.leaseTicks;
  }

  // --- inputs --------------------------------------------------------------------------------------

  tick(): void {
    this.now++;
    if (this.currentRole === 'leader') {
      if (this.now - this.quorumAckAt() >= this.electionTicks) {
        // Check-quorum: no word from a majority for a whole election timeout.
        this.becomeFollower(this.currentTerm, null);
        return;
      }
      if (++this.heartbeatElapsed >= this.heartbeatTicks) {
        this.heartbeatElapsed = 0;
        for (const peer of this.targets) this.sendAppend(peer, true);
      }
      return;
    }
    if (++this.electionElapsed >= this.electionTimeout && this.isVoter) this.campaign();
  }

  /** Appends a command if this node leads; the caller learns it is committed when it is applied. */
  propose(data: Uint8Array): ProposeResult {
    if (this.currentRole !== 'leader') return { ok: false, leaderId: this.leader };
    const entry = this.appendLocal(EntryKind.COMMAND, data);
    for (const peer of this.targets) if (!this.progress.get(peer)!.inflight) this.sendAppend(peer, false);
    this.maybeCommit();
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Replaces the log up to `index` (which the state machine has applied) by a snapshot of the
   * state machine at that index. Returns false when there is nothing to compact.
   */
  compact(index: number, data: Uint8Array): boolean {
    if (index > this.applied) throw new RangeError(`cannot compact to ${index}: only ${this.applied} applied`);
    if (index <= this.log.snapshotIndex) return false;
    this.out.snapshot = this.log.compact(index, data);
    this.out.append = this.out.append.filter((e) => e.index > index);
    return true;
  }

  step(m: RaftMessage): void {
    if (m.to !== this.id || m.from === this.id) return;
    // Learners only ever answer a leader's appends and snapshots; anything else from them is dropped.
    if (!this.voters.includes(m.from) && !(this.learnerIds.includes(m.from) && (m.type === 'append-response' || m.type === 'snapshot-response'))) return;
    if (m.term > this.currentTerm) {
      if (m.type === 'vote') {
        if (this.inLease()) return; // stickiness: a live leader is not deposed
        if (!m.preVote) this.becomeFollower(m.term, null);
      } else if (m.type === 'vote-response' && m.preVote && m.granted) {
        // A granted pre-vote carries the term asked about; nobody changed terms.
      } else {
        this.becomeFollower(m.term, m.type === 'append' || m.type === 'snapshot' ? m.from : null);
      }
    } else if (m.term < this.currentTerm) {
      // Tell a stale leader or candidate the newer term so it steps down; drop stale answers.
      if (m.type === 'append' || m.type === 'snapshot') {
        this.send({ type: 'append-response', from: this.id, to: m.from, term: this.currentTerm, success: false, matchIndex: 0, rejectedIndex: 0, hintIndex: 0, sentAt: m.sentAt });
      } else if (m.type === 'vote') {
        this.send({ type: 'vote-response', from: this.id, to: m.from, term: this.currentTerm, preVote: m.preVote, granted: false });
      }
      return;
    }
    switch (m.type) {
      case 'vote':
        return this.onVote(m);
      case 'vote-response':
        return this.onVoteResponse(m);
      case 'append':
        this.followLeader(m.from);
        return this.onAppend(m);
      case 'snapshot':
        this.followLeader(m.from);
        return this.onSnapshot(m);
      case 'append-response':
        return this.onAppendResponse(m);
      case 'snapshot-response':
        return this.onSnapshotResponse(m);
    }
  }

  /** The work left by the inputs since the last call; see the header for what to do with it. */
  takeOutput(): RaftOutput {
    const out = this.out;
    this.out = emptyOutput();
    return out;
  }

  // --- elections -----------------------------------------------------------------------------------

  private inLease(): boolean {
    if (this.now < this.electionTicks) return true; // just (re)started: whom did we last hear from?
    if (this.currentRole === 'leader') return true;
    return this.leader !== null && this.electionElapsed < this.electionTicks;
  }

  private campaign(): void {
    if (this.preVote) {
      this.currentRole = 'pre-candidate';
      this.leader = null;
      this.resetElectionTimer();
      this.votes.clear();
      this.votes.add(this.id);
      if (this.votes.size >= this.quorum) return this.startElection();
      this.requestVotes(true, this.currentTerm + 1);
    } else {
      this.startElection();
    }
  }

  private startElection(): void {
    this.currentTerm++;
    this.votedFor = this.id;
    this.saveHardState();
    this.currentRole = 'candidate';
    this.leader = null;
    this.resetElectionTimer();
    this.votes.clear();
    this.votes.add(this.id);
    if (this.votes.size >= this.quorum) return this.becomeLeader();
    this.requestVotes(false, this.currentTerm);
  }

  private requestVotes(preVote: boolean, term: number): void {
    const lastLogIndex = this.lastIndex;
    const lastLogTerm = this.termAt(lastLogIndex)!;
    for (const peer of this.peers) this.send({ type: 'vote', from: this.id, to: peer, term, preVote, lastLogIndex, lastLogTerm });
  }

  private onVote(m: VoteRequest): void {
    const lastTerm = this.termAt(this.lastIndex)!;
    const upToDate = m.lastLogTerm > lastTerm || (m.lastLogTerm === lastTerm && m.lastLogIndex >= this.lastIndex);
    let granted: boolean;
    if (m.preVote) {
      granted = m.term > this.currentTerm && upToDate && !this.inLease();
    } else {
      // One vote per term; a follower that knows this term's leader does not vote for another.
      const free = this.votedFor === m.from || (this.votedFor === null && this.leader === null);
      granted = free && upToDate;
      if (granted) {
        this.votedFor = m.from;
        this.saveHardState();
        this.electionElapsed = 0;
      }
    }
    const term = m.preVote && granted ? m.term : this.currentTerm;
    this.send({ type: 'vote-response', from: this.id, to: m.from, term, preVote: m.preVote, granted });
  }

  private onVoteResponse(m: VoteResponse): void {
    if (!m.granted) return;
    if (m.preVote && this.currentRole === 'pre-candidate' && m.term === this.currentTerm + 1) {
      this.votes.add(m.from);
      if (this.votes.size >= this.quorum) this.startElection();
    } else if (!m.preVote && this.currentRole === 'candidate' && m.term === this.currentTerm) {
      this.votes.add(m.from);
      if (this.votes.size >= this.quorum) this.becomeLeader();
    }
  }

  private becomeFollower(term: number, leader: number | null): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
      this.saveHardState();
    }
    this.currentRole = 'follower';
    this.leader = leader;
    this.progress.clear();
    this.resetElectionTimer();
  }

  /** An append or snapshot of the current term: its sender leads this term. */
  private followLeader(leader: number): void {
    if (this.currentRole !== 'follower') this.becomeFollower(this.currentTerm, leader);
    this.leader = leader;
    this.electionElapsed = 0;
  }

  private becomeLeader(): void {
    this.currentRole = 'leader';
    this.leader = this.id;
    this.heartbeatElapsed = 0;
    this.progress.clear();
    for (const peer of this.targets) {
      this.progress.set(peer, newProgress(this.lastIndex, this.now));
    }
    // The no-op commits everything before it (a leader may only count replicas of its own term's
    // entries, Raft 5.4.2) and tells this leader when its lease may begin.
    this.termStartIndex = this.appendLocal(EntryKind.NOOP, new Uint8Array(0)).index;
    for (const peer of this.targets) this.sendAppend(peer, false);
    this.maybeCommit();
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.electionTimeout = this.electionTicks + this.random.int(this.electionTicks);
  }

  // --- replication: follower side --------------------------------------------------------------------

  private onAppend(m: AppendRequest): void {
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
  private rejectHint(prevIndex: number, ourPrevTerm: number | undefined): number {
    if (ourPrevTerm === undefined) return this.lastIndex;
    let i = prevIndex;
    while (i - 1 > this.log.snapshotIndex && this.termAt(i - 1) === ourPrevTerm) i--;
    return i - 1;
  }

  private onSnapshot(m: SnapshotRequest): void {
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

  private sendAppend(peer: number, heartbeat: boolean): void {
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
  private onAppendResponse(m: AppendResponse): void {
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

  private onSnapshotResponse(m: SnapshotResponse): void {
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

  private maybeCommit(): void {
    const n = quorumValue(this.voters.map((v) => (v === this.id ? this.lastIndex : this.progress.get(v)!.match)), this.quorum);
    if (n > this.commit && this.termAt(n) === this.currentTerm) {
      this.commit = n;
      this.applyCommitted();
    }
  }

  /** The newest time by which a majority (this leader included) had acknowledged a request. */
  private quorumAckAt(): number {
    return quorumValue(this.voters.map((v) => (v === this.id ? this.now : this.progress.get(v)!.lastAckAt)), this.quorum);
  }

  // --- log and output ------------------------------------------------------------------------------

  private appendLocal(kind: EntryKind, data: Uint8Array): LogEntry {
    const entry: LogEntry = { index: this.lastIndex + 1, term: this.currentTerm, kind, data };
    this.appendEntry(entry);
    return entry;
  }

  private appendEntry(entry: LogEntry): void {
    this.log.append(entry);
    this.out.append.push(entry);
  }

  private truncateFrom(index: number): void {
    this.log.truncateFrom(index);
    this.out.append = this.out.append.filter((e) => e.index < index);
    this.out.truncateFrom = this.out.truncateFrom === null ? index : Math.min(this.out.truncateFrom, index);
  }

  private applyCommitted(): void {
    while (this.applied < this.commit) {
      this.applied++;
      this.out.committed.push(this.entryAt(this.applied)!);
    }
  }

  private saveHardState(): void {
    this.out.hardState = { term: this.currentTerm, votedFor: this.votedFor };
  }

  private send(message: RaftMessage): void {
    this.out.messages.push(message);
  }
}
