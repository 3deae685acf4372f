// How a partition leader asks the controller to change its ISR. Any thread (an interface).
//
// The leader never changes its ISR by itself: it proposes, the controller applies 'alter-isr' to
// the metadata (src/cluster/metadata/metadata-state.ts) — refusing a leader whose epoch is stale —
// and answers with the ISR it now holds. In a cluster this goes through Raft on the controller;
// tests and a single-node broker use controllerIsrChannel over a local MetadataState.

import { Errors } from '../../errors.js';
import type { MetadataState } from '../../cluster/metadata/metadata-state.js';
import { isrOf } from '../../cluster/metadata/leader-election.js';
import type { AlterIsrRequest } from '../../protocol/api-alter-isr.js';

/** The wire request is the request: the same fields whether it crosses the network or not. */
export type { AlterIsrRequest } from '../../protocol/api-alter-isr.js';

export type AlterIsrAnswer = { ok: true; isr: number[] } | { ok: false; code: number; message: string; isr?: number[] };

export interface IsrChannel {
  alterIsr(request: AlterIsrRequest): Promise<AlterIsrAnswer>;
}

/**
 * An IsrChannel that applies alter-isr to `state` through `submit` (Raft proposal in a cluster, or
 * state.execute directly in tests) and reads the committed ISR back.
 */
export function controllerIsrChannel(state: MetadataState, submit: (command: { type: 'alter-isr' } & AlterIsrRequest) => Promise<{ ok: boolean; code?: number; message?: string }>): IsrChannel {
  return {
    async alterIsr(request) {
      const result = await submit({ type: 'alter-isr', ...request });
      const record = state.topic(request.topic)?.partitions[request.partition];
      const isr = record === undefined ? undefined : [...isrOf(record)];
      if (result.ok && isr !== undefined) return { ok: true, isr };
      return { ok: false, code: result.code ?? Errors.UNKNOWN_SERVER_ERROR.code, message: result.message ?? 'alter-isr failed', isr };
    },
  };
}
