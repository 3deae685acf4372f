// Repeated failover with producers running: three in-process brokers, a topic of 3 partitions
// with replication factor 3 and min.insync.replicas=2, one idempotent acks=all producer per
// partition retrying every failure on whichever broker leads now. Five rounds kill a partition's
// leader (the brokers' roles rotate), restart it, and wait for it to rejoin. Afterwards every
// acknowledged message is present exactly once, in order, on every replica.

import { afterEach, describe, expect, it } from 'vitest';
import { RillError } from '../../../src/errors.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../../src/storage/index.js';
import { isrOf } from '../../../src/cluster/metadata/leader-election.js';
import { tempDirs } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';
import { ReplicationCluster } from './replication-cluster.js';

const tempDir = tempDirs();
let cluster: ReplicationCluster | null = null;
afterEach(async () => {
  await cluster?.stopAll();
  cluster = null;
});

const PARTITIONS = 3;

describe('failover rounds with producers running', () => {
  it('loses, duplicates and reorders nothing acknowledged across 5 leader kills', async () => {
    const c = new ReplicationCluster(tempDir(), [1, 2, 3], { lagTimeMaxMs: 500, minInsync: 2 });
    cluster = c;
    for (const id of [1, 2, 3]) await c.start(id);
    await c.createTopic('chaos', PARTITIONS, 3);
    const acked: string[][] = Array.from({ length: PARTITIONS }, () => []);
    let running = true;
    let retries = 0;

    const producer = async (partition: number) => {
      for (let seq = 0; running; seq++) {
        const batch = encodeRecordBatch({ producerId: 100 + partition, producerEpoch: 0, baseSequence: seq, records: [{ value: `p${partition}-${seq}` }] });
        for (;;) {
          const leaderId = c.state.topic('chaos')!.partitions[partition].leader;
          const leader = c.brokers.get(leaderId);
          try {
            if (leader === undefined || !leader.up) throw new Error('no live leader');
            await leader.host.produce('chaos', partition, batch, -1, 2_000);
            acked[partition].push(`p${partition}-${seq}`);
            break;
          } catch (error) {
            if (!(error instanceof RillError) && (error as Error).message !== 'no live leader') throw error;
            retries++;
            if (!running) return;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      }
    };
    const producers = Array.from({ length: PARTITIONS }, (_, p) => producer(p));

    for (let round = 0; round < 5; round++) {
      const partition = round % PARTITIONS;
      await waitFor(() => acked.every((a) => a.length > 20 * (round + 1)), { what: `progress before round ${round}`, timeoutMs: 30_000 });
      const victim = c.state.topic('chaos')!.partitions[partition].leader;
      await c.kill(victim);
      await waitFor(() => acked[partition].length > 20 * (round + 1) + 10, { what: `acks on the new leader in round ${round}`, timeoutMs: 30_000 });
      await c.start(victim);
      await waitFor(() => c.state.topics()[0].partitions.every((p) => isrOf(p).includes(victim)), { what: `broker ${victim} to rejoin every ISR in round ${round}`, timeoutMs: 30_000 });
    }
    running = false;
    await Promise.all(producers);

    for (let partition = 0; partition < PARTITIONS; partition++) {
      const leader = c.leaderOf('chaos', partition);
      const end = leader.host.logOf('chaos', partition).logEndOffset;
      for (const b of c.brokers.values()) await waitFor(() => b.host.logOf('chaos', partition).logEndOffset === end, { what: `broker ${b.id} to hold all of chaos-${partition}` });
      for (const b of c.brokers.values()) {
        const values: string[] = [];
        const log = b.host.logOf('chaos', partition);
        for (let offset = 0; offset < log.logEndOffset; ) {
          const r = log.read(offset, 1 << 20);
          for (const batch of decodeRecordBatches(r.records)) for (const rec of batch.records) values.push(Buffer.from(rec.value!).toString());
          offset = r.nextOffset;
        }
        // Every acknowledged message once, in order; at most a trailing unacknowledged one (the
        // last attempt when the producers stopped).
        expect(new Set(values).size, `duplicates on broker ${b.id}`).toBe(values.length);
        expect(values.slice(0, acked[partition].length), `chaos-${partition} on broker ${b.id}`).toEqual(acked[partition]);
        expect(values.length - acked[partition].length).toBeLessThanOrEqual(1);
      }
    }
    expect(retries).toBeGreaterThan(0);
  }, 120_000);
});
