// `rill groups` against a real broker process: a group with a member and commits (driven over the
// binary protocol with the test client), then list, describe (members, assignments, committed and
// log end offsets, lag), a refused reset while the member is there, a dry-run and an executed
// reset once it left, the reset surviving a SIGKILL of the broker, and deletion.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess } from 'node:child_process';
import { Errors } from '../../src/errors.js';
import { ApiKeys } from '../../src/protocol/index.js';
import { TestClient } from '../helpers/protocol-client.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { rillCli, spawnNode, waitForExit } from './fixtures/child.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs('rill-groups-cli-');
const RUN_LIMIT_MS = 45_000;
const FLAGS = ['--workers', '2', '--group-initial-rebalance-delay-ms', '0'];

let dataDir: string;
let broker: BrokerProcess;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startBroker(dataDir, FLAGS);
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await killBroker(broker);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rill(args: string[], input = ''): Promise<Run> {
  const child = spawnNode(rillCli, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RILL_BROKERS: `127.0.0.1:${broker.port}` } });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(input);
  const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  return waitForExit(child).then(({ code }) => {
    clearTimeout(limit);
    children.delete(child);
    return { code, stdout, stderr };
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const run = await rill(args, input);
  expect(run.code, `rill ${args.join(' ')}: ${run.stderr}`).toBe(0);
  return run.stdout;
}

function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^rill: error: /);
  expect(lines[0]).toMatch(pattern);
}

/** The fields of the group answers this test reads. */
interface GroupAnswer {
  errorCode: number;
  memberId: string;
  generationId: number;
}

async function call(client: TestClient, api: 'JoinGroup' | 'SyncGroup' | 'OffsetCommit' | 'LeaveGroup', header: unknown): Promise<GroupAnswer> {
  const response = (await client.request(ApiKeys[api], header as never)) as unknown as { header: GroupAnswer };
  return response.header;
}

/** Joins `groupId` as its only member (KIP-394's two steps), takes both partitions of `topic`, and syncs. */
async function joinAsOnlyMember(client: TestClient, groupId: string, topic: string): Promise<{ memberId: string; generationId: number }> {
  const join = { groupId, clientId: 'billing-worker', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', protocols: [{ name: 'range' }], subscription: { topics: [topic], ownedPartitions: [] } };
  const first = await call(client, 'JoinGroup', { ...join, memberId: '' });
  expect(first.errorCode).toBe(Errors.MEMBER_ID_REQUIRED.code);
  const joined = await call(client, 'JoinGroup', { ...join, memberId: first.memberId });
  expect(joined.errorCode).toBe(0);
  const synced = await call(client, 'SyncGroup', {
    groupId,
    generationId: joined.generationId,
    memberId: joined.memberId,
    assignments: [{ memberId: joined.memberId, partitions: [{ topic, partitions: [0, 1] }] }],
  });
  expect(synced.errorCode).toBe(0);
  return { memberId: joined.memberId, generationId: joined.generationId };
}

describe('rill groups against a broker', () => {
  it('lists, describes with lag, refuses to reset a live group, resets an empty one durably, and deletes it', async () => {
    await ok(['topics', 'create', 'orders', '--partitions', '2']);
    await ok(['produce', 'orders', '--partition', '0'], Array.from({ length: 12 }, (_, i) => `a${i}`).join('\n') + '\n');
    await ok(['produce', 'orders', '--partition', '1'], Array.from({ length: 5 }, (_, i) => `b${i}`).join('\n') + '\n');

    const client = await TestClient.connect(broker.port);
    try {
      const { memberId, generationId } = await joinAsOnlyMember(client, 'billing', 'orders');
      const committed = await call(client, 'OffsetCommit', { groupId: 'billing', generationId, memberId, partitions: [{ topic: 'orders', partition: 0, offset: 3 }] });
      expect(committed.errorCode).toBe(0);

      expect(await ok(['groups', 'list'])).toMatch(/^GROUP\s+STATE\s+PROTOCOL-TYPE\nbilling\s+Stable\s+consumer\n/);
      const described = await ok(['groups', 'describe', 'billing']);
      expect(described).toMatch(/State: Stable\s+Protocol: range\s+Generation: \d+\s+Members: 1\s+Total lag: 9/);
      expect(described).toContain(memberId);
      expect(described).toMatch(/billing-worker\s+127\.0\.0\.1\s+-\s+orders: 0,1/);
      expect(described).toMatch(/orders\s+0\s+3\s+12\s+9\s+/);
      expect(described).toMatch(/orders\s+1\s+-\s+5\s+-\s+/);
      const json = JSON.parse(await ok(['groups', 'describe', 'billing', '--json']));
      expect(json.offsets).toEqual([
        { topic: 'orders', partition: 0, committedOffset: 3, metadata: '', logEndOffset: 12, lag: 9 },
        { topic: 'orders', partition: 1, committedOffset: -1, metadata: '', logEndOffset: 5, lag: null },
      ]);

      // Kafka's rule: offsets are reset only for a group without members.
      expectOneLineError(await rill(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-earliest', '--execute']), /NON_EMPTY_GROUP/);
      expectOneLineError(await rill(['groups', 'delete', 'billing']), /NON_EMPTY_GROUP/);

      const left = await call(client, 'LeaveGroup', { groupId: 'billing', members: [{ memberId }] });
      expect(left.errorCode).toBe(0);
    } finally {
      client.close();
    }

    const plan = await ok(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--to-latest']);
    expect(plan).toMatch(/^Dry run: nothing committed/);
    expect(plan).toMatch(/orders\s+0\s+3\s+12/);
    expect(plan).toMatch(/orders\s+1\s+-\s+5/);
    expect(await ok(['groups', 'describe', 'billing'])).toMatch(/orders\s+0\s+3\s+12\s+9/);

    const executed = await ok(['groups', 'reset-offsets', 'billing', '--topic', 'orders', '--partitions', '0', '--to-offset', '10', '--execute']);
    expect(executed).toMatch(/^Committed new offsets for group billing/);
    expect(await ok(['groups', 'describe', 'billing'])).toMatch(/State: Empty[\s\S]*No active members\.[\s\S]*orders\s+0\s+10\s+12\s+2/);

    // A committed reset survives the broker being killed (the commit was acknowledged).
    await killBroker(broker);
    broker = await startBroker(dataDir, FLAGS);
    expect(await ok(['groups', 'describe', 'billing'])).toMatch(/orders\s+0\s+10\s+12\s+2/);

    expect(await ok(['groups', 'delete', 'billing'])).toBe('Deleted group billing.\n');
    expectOneLineError(await rill(['groups', 'describe', 'billing']), /GROUP_ID_NOT_FOUND/);
    expect(await ok(['groups', 'list'])).toBe('');
  }, 180_000);
});
