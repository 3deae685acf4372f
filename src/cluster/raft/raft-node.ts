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

import { EntryKind, type RaftMessage, type VoteRequest, type VoteResponse } from './messages.js';
import type { Random } from '../random.js';
import { newProgress } from './progress.js';
import { EMPTY_DURABLE_STATE, RAFT_DEFAULTS, emptyOutput, type DurableState, type ProposeResult, type RaftConfig, type RaftOutput } from './raft-state.js';
import { RaftReplication } from './raft-replication.js';

export { EMPTY_DURABLE_STATE, EMPTY_SNAPSHOT, RAFT_DEFAULTS, type DurableState, type HardState, type ProposeResult, type RaftConfig, type RaftOutput, type RaftRole, type Snapshot } from './raft-state.js';

/** The node's inputs and its elections; the state is RaftCore's, the log replication RaftReplication's. */
export class RaftNode extends RaftReplication {
  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly leaseTicks: number;
  private readonly preVote: boolean;
  private readonly random: Random;

  private electionElapsed = 0;
  private electionTimeout = 0;
  private heartbeatElapsed = 0;
  private readonly votes = new Set<number>();
  /** Index of this leader's first entry (its no-op); the lease holds only once it is committed. */
  private termStartIndex = 0;

  constructor(config: RaftConfig, durable: DurableState = EMPTY_DURABLE_STATE) {
    super(config, durable);
    this.electionTicks = config.electionTicks ?? RAFT_DEFAULTS.electionTicks;
    this.heartbeatTicks = config.heartbeatTicks ?? RAFT_DEFAULTS.heartbeatTicks;
    this.leaseTicks = config.leaseTicks ?? Math.max(1, Math.floor(this.electionTicks * 0.8));
    this.preVote = config.preVote ?? true;
    this.random = config.random;
    if (this.heartbeatTicks >= this.electionTicks) throw new RangeError('heartbeatTicks must be below electionTicks');
    if (this.leaseTicks >= this.electionTicks) throw new RangeError('leaseTicks must be below electionTicks');
    this.resetElectionTimer();
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
}
