// PartitionReplica's leader role against a scripted controller: what it adopts when an ISR change
// is refused.

import { afterEach, describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { PartitionReplica } from '../../../src/broker/replication/partition-replica.js';
import type { AlterIsrAnswer, AlterIsrRequest, IsrChannel } from '../../../src/broker/replication/isr-channel.js';
import { PartitionLog } from '../../../src/storage/index.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';

const tempDir = tempDirs();
const logs: PartitionLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

/** Node 1 leading t-0 in epoch 0 with ISR [1,2,3]; the controller answers every proposal with `answer`. */
async function leader(answer: (request: AlterIsrRequest) => AlterIsrAnswer) {
  const log = await PartitionLog.open(tempDir());
  logs.push(log);
  const proposals: AlterIsrRequest[] = [];
  const channel: IsrChannel = {
    alterIsr: async (request) => {
      proposals.push(request);
      return answer(request);
    },
  };
  const replica = new PartitionReplica('t', 0, log, { brokerId: 1, lagTimeMaxMs: 10, maxPendingAcks: 16 }, channel, () => {});
  replica.apply({ topic: 't', partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3], minInsyncReplicas: 2 }, 0);
  return { replica, proposals };
}

describe('PartitionReplica: a refused ISR change', () => {
  it('adopts the controller ISR when it still holds this replica', async () => {
    const { replica, proposals } = await leader(() => ({ ok: false, code: Errors.NOT_CONTROLLER.code, message: 'not the controller', isr: [1, 2] }));
    replica.tick(1_000);
    await waitFor(() => proposals.length === 1 && replica.isr.length === 2, { what: 'the refusal' });
    expect(replica.isr).toEqual([1, 2]);
  });

  it('keeps its own ISR when the controller answers one without it (another replica leads now), and never proposes an empty ISR', async () => {
    const { replica, proposals } = await leader(() => ({ ok: false, code: Errors.FENCED_LEADER_EPOCH.code, message: 'epoch 1 leads', isr: [2, 3] }));
    replica.tick(1_000);
    // A tick while a proposal is out does nothing: the second proposal comes after the refusal.
    await waitFor(() => {
      replica.tick(2_000);
      return proposals.length === 2;
    }, { what: 'the next shrink proposal' });
    expect(replica.isr).toEqual([1, 2, 3]);
    expect(proposals.map((p) => p.isr)).toEqual([[1], [1]]);
  });
});

describe('PartitionReplica: under-replication during a reassignment', () => {
  it('does not count replicas a reassignment is still adding, but does count an old replica out of the ISR', async () => {
    const { replica } = await leader(() => ({ ok: false, code: Errors.NOT_CONTROLLER.code, message: 'not the controller', isr: [1, 2, 3] }));
    expect(replica.underReplicated).toBe(false);
    // Node 4 joins as an adding replica (same epoch): still catching up, not under-replicated.
    replica.apply({ topic: 't', partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3, 4], isr: [1, 2, 3], minInsyncReplicas: 2, addingReplicas: [4] }, 0);
    expect(replica.underReplicated).toBe(false);
    // An original replica dropping out is under-replication, adding replica or not.
    replica.apply({ topic: 't', partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3, 4], isr: [1, 2], minInsyncReplicas: 2, addingReplicas: [4] }, 0);
    expect(replica.underReplicated).toBe(true);
    // Without a reassignment every replica counts.
    replica.apply({ topic: 't', partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3, 4], isr: [1, 2, 3], minInsyncReplicas: 2 }, 0);
    expect(replica.underReplicated).toBe(true);
  });
});

describe('PartitionReplica: ISR expansion and fenced brokers', () => {
  it('does not propose a caught-up replica on a fenced broker, and does once it is unfenced', async () => {
    const log = await PartitionLog.open(tempDir());
    logs.push(log);
    const proposals: AlterIsrRequest[] = [];
    const channel: IsrChannel = { alterIsr: async (request) => (proposals.push(request), { ok: true, isr: request.isr }) };
    const replica = new PartitionReplica('t', 0, log, { brokerId: 1, lagTimeMaxMs: 10_000, maxPendingAcks: 16 }, channel, () => {});
    const led = { topic: 't', partition: 0, leader: 1, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2], minInsyncReplicas: 1 };
    replica.apply({ ...led, fencedReplicas: [3] }, 0);
    replica.onFollowerFetch(3, 0, log.logEndOffset, 1); // caught up, but fenced: the controller would refuse it
    expect(proposals).toEqual([]);
    replica.apply(led, 2); // unfenced (same epoch)
    replica.onFollowerFetch(3, 0, log.logEndOffset, 3);
    await waitFor(() => replica.isr.length === 3, { what: 'the expansion' });
    expect(proposals.map((p) => p.isr)).toEqual([[1, 2, 3]]);
  });
});
