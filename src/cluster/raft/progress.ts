// What a Raft leader knows of each follower and learner it replicates to, and the quorum arithmetic
// over it. Main thread only (the RaftNode's).
//
// Only voters count towards quorums (commit index, lease); learners have progress so that they
// receive the log, nothing more.

export interface Progress {
  /** Next index to send. */
  next: number;
  /** Highest index known replicated. */
  match: number;
  /** An append with entries (or a snapshot) is unanswered; heartbeats resend it. */
  inflight: boolean;
  /** `sentAt` of the newest request this peer answered. */
  lastAckAt: number;
}

/** A peer the leader has just started replicating to: probe from the leader's end. */
export function newProgress(lastIndex: number, now: number): Progress {
  return { next: lastIndex + 1, match: 0, inflight: false, lastAckAt: now };
}

/**
 * The value a quorum has reached: the quorum-th largest of the voters' values (match indexes for
 * the commit index, acknowledgement times for the lease).
 */
export function quorumValue(values: readonly number[], quorum: number): number {
  return [...values].sort((a, b) => b - a)[quorum - 1];
}
