// The active controller's face: metadata changes as proposals through Raft, and gossip's verdicts
// turned into fence/unfence commands. Main thread only (the RaftServer's).
//
// Every voter runs one; only the Raft leader's acts. Gossip events reach every node, so each
// controller sees DEAD and rejoin notices, but only the leader proposes; a leader that takes over
// calls reconcile() with the current gossip view to catch up on verdicts it missed.

import type { MemberEvent } from '../gossip/member-list.js';
import { MemberState } from '../gossip/messages.js';
import type { RaftServer } from '../raft/raft-server.js';
import { encodeCommand, type MetadataCommand, type MetadataResult, type MetadataState } from './metadata-state.js';

export class MetadataController {
  constructor(
    private readonly raft: RaftServer<MetadataResult>,
    readonly state: MetadataState,
  ) {}

  get isActive(): boolean {
    return this.raft.isLeader;
  }

  /**
   * Commits a command and resolves with its result once applied here. Rejects with NOT_CONTROLLER
   * (details.leaderId) when this node is not the active controller.
   */
  submit(command: MetadataCommand): Promise<MetadataResult> {
    return this.raft.propose(encodeCommand(command));
  }

  /** Gossip's notices: a DEAD or LEFT broker is fenced, a live one that was fenced is unfenced. */
  onMemberEvent(event: MemberEvent): void {
    this.judge(event.member.id, event.member.state);
  }

  /** Brings fencing in line with a whole gossip view (after winning an election). */
  reconcile(members: readonly { id: number; state: MemberState }[]): void {
    for (const m of members) this.judge(m.id, m.state);
  }

  private judge(id: number, state: MemberState): void {
    if (!this.raft.isLeader) return;
    const broker = this.state.broker(id);
    if (broker === undefined) return;
    const gone = state === MemberState.DEAD || state === MemberState.LEFT;
    if (gone && !broker.fenced) void this.submit({ type: 'fence-broker', id }).catch(() => {});
    else if (state === MemberState.ALIVE && broker.fenced) void this.submit({ type: 'unfence-broker', id }).catch(() => {});
  }
}
