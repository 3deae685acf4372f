// The cluster's figures on GET /metrics, read when scraped from the node's own view. Main thread.
//
//   rill_cluster_members{state}               members gossip holds alive, suspect, dead, left
//   rill_cluster_dropped_frames{channel,reason} gossip datagrams and Raft frames dropped: malformed,
//                                             foreignCluster, unsupportedVersion (raft: also unsent,
//                                             frames for a peer not connected right now)
//   rill_cluster_controller_term              this node's Raft term (the controller epoch)
//   rill_cluster_is_controller                1 on the active controller
//   rill_cluster_metadata_version             the last metadata log index applied here

import { Gauge, type Registry } from 'prom-client';
import { type ClusterNode } from '../cluster/index.js';

export function registerClusterMetrics(registry: Registry, node: ClusterNode): void {
  const registers = [registry];
  new Gauge({
    name: 'rill_cluster_members',
    help: 'Cluster members by gossip state, as this node sees them',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const m of node.status().members) this.inc({ state: m.state });
    },
  });
  new Gauge({
    name: 'rill_cluster_dropped_frames',
    help: 'Gossip datagrams and Raft frames dropped (foreign cluster, unknown version, malformed; raft unsent)',
    labelNames: ['channel', 'reason'],
    registers,
    collect() {
      const s = node.status();
      for (const [reason, n] of Object.entries(s.gossip.drops)) this.set({ channel: 'gossip', reason }, n);
      for (const [reason, n] of Object.entries(s.raftDrops)) this.set({ channel: 'raft', reason }, n);
    },
  });
  new Gauge({ name: 'rill_cluster_controller_term', help: 'Raft term of this node (the controller epoch)', registers, collect() { this.set(node.status().controller.term); } });
  new Gauge({ name: 'rill_cluster_is_controller', help: '1 on the active controller', registers, collect() { this.set(node.isController ? 1 : 0); } });
  new Gauge({ name: 'rill_cluster_metadata_version', help: 'Last metadata log index applied on this node', registers, collect() { this.set(node.state.version); } });
}
