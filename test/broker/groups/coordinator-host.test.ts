// CoordinatorHost on a replicated __consumer_offsets partition (cluster): commits wait for acks=all,
// a node that becomes the leader loads the groups from its log (including records above the high
// watermark, which it will commit), and a follower coordinates nothing.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/errors.js';
import { CoordinatorHost } from '../../../src/broker/groups/coordinator-host.js';
import { OFFSETS_TOPIC } from '../../../src/broker/groups/coordinator-partition.js';
import { PartitionHost, type Acks, type ReplicaHooks } from '../../../src/broker/partition-host.js';
import { silentLogger } from '../../../src/logger.js';
import { DEFAULT_LOG_CONFIG } from '../../../src/storage/index.js';
import { tempDirs } from '../../helpers/temp-dir.js';

const tempDir = tempDirs();
const settings = { offsetsPartitions: 1, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 1_800_000, initialRebalanceDelayMs: 0 };

/** A leader role whose high watermark stays where the test puts it, and whose acks=all waits are held. */
class HeldReplica implements ReplicaHooks {
  highWatermark = 0;
  readonly acks: Acks[] = [];
  readonly held: (() => void)[] = [];
  beforeAppend(): void {}
  afterAppend(_end: number, acks: Acks): Promise<void> | null {
    this.acks.push(acks);
    return acks === -1 ? new Promise((resolve) => this.held.push(resolve)) : null;
  }
}

describe('CoordinatorHost on a replicated offsets partition', () => {
  it('commits with acks=all, loads from the log end when it becomes leader, and forgets its groups as a follower', async () => {
    const host = new PartitionHost();
    await host.open({ topic: OFFSETS_TOPIC, partition: 0, dir: join(tempDir(), OFFSETS_TOPIC, '0'), config: DEFAULT_LOG_CONFIG, replicated: true });
    const replica = new HeldReplica();
    host.attachReplica(OFFSETS_TOPIC, 0, replica);
    const fetchTool = (c: CoordinatorHost) => c.coordinator.fetchOffsets({ groupId: 'tool', partitions: [{ topic: 't', partition: 3 }] });

    const first = new CoordinatorHost(host, settings, silentLogger);
    expect(fetchTool(first).errorCode).toBe(Errors.NOT_COORDINATOR.code); // opened, not yet told it leads
    first.roleChanged(0, 'leader');
    let answered = false;
    const commit = first.coordinator.commit({ groupId: 'tool', generationId: -1, memberId: '', partitions: [{ topic: 't', partition: 3, offset: 99 }] }).then((r) => ((answered = true), r));
    await new Promise((resolve) => setImmediate(resolve));
    expect(replica.acks).toEqual([-1]);
    expect(answered).toBe(false); // waits for the in-sync replicas
    replica.held.forEach((resolve) => resolve());
    expect((await commit).partitions[0].errorCode).toBe(0);

    // Another coordinator on the same log, as a follower that held these records and is elected:
    // the high watermark (0) trails the commit, and the load still sees it.
    const elected = new CoordinatorHost(host, settings, silentLogger);
    elected.roleChanged(0, 'leader');
    expect(fetchTool(elected)).toMatchObject({ errorCode: 0, partitions: [{ offset: 99 }] });

    first.roleChanged(0, 'follower');
    expect(fetchTool(first).errorCode).toBe(Errors.NOT_COORDINATOR.code);
    elected.roleChanged(0, 'unchanged'); // same epoch: keeps serving
    expect(fetchTool(elected).partitions[0].offset).toBe(99);
    elected.roleChanged(0, 'stopped');
    expect(fetchTool(elected).errorCode).toBe(Errors.NOT_COORDINATOR.code);
    await host.closeAll();
  });
});
