// The HTTP API of a cluster: each node stores keyless messages in partitions it leads, and sends
// requests for partitions another node leads there (307, method and body kept), or answers 421
// when one request spans several leaders. Three real node processes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker } from './fixtures/broker-process.js';
import { gossipAddress, startNode, statusOf, type NodeProcess } from './fixtures/cluster-process.js';

const tempDir = tempDirs();
const nodes: NodeProcess[] = [];
const TOPIC = 'web';
/** partition -> leader id */
let leaders = new Map<number, number>();

const url = (n: NodeProcess, path: string) => `http://127.0.0.1:${n.httpPort}${path}`;
const byId = (id: number) => nodes.find((n) => n.id === id)!;
const post = (n: NodeProcess, path: string, body: unknown, redirect: 'manual' | 'follow' = 'manual') =>
  fetch(url(n, path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), redirect });

beforeAll(async () => {
  const n1 = await startNode(1, tempDir(), []);
  nodes.push(n1);
  nodes.push(...(await Promise.all([startNode(2, tempDir(), [gossipAddress(n1)]), startNode(3, tempDir(), [gossipAddress(n1)])])));
  await waitFor(async () => {
    const s = await statusOf(n1);
    return s.controllerId > 0 && s.brokers.filter((b) => !b.fenced).length === 3;
  }, { timeoutMs: 20_000, what: 'the cluster to form' });
  const created = await post(nodes[1], '/v1/topics', { name: TOPIC, partitions: 3, replicationFactor: 1 });
  expect(created.status, await created.clone().text()).toBe(201);
  leaders = await waitFor(async () => {
    const s = await statusOf(n1);
    const mine = s.partitions.filter((p) => p.topic === TOPIC && p.leader > 0);
    return mine.length === 3 && new Set(mine.map((p) => p.leader)).size === 3 ? new Map(mine.map((p) => [p.partition, p.leader])) : undefined;
  }, { timeoutMs: 20_000, what: 'three partitions led by three nodes' });
  // Every node has opened what it leads.
  await waitFor(async () => {
    for (const n of nodes) if ((await fetch(url(n, '/readyz'))).status !== 200) return false;
    return true;
  }, { timeoutMs: 20_000, what: 'every node ready' });
}, 60_000);

afterAll(async () => {
  for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) await killBroker(n);
});

describe('the HTTP API in a cluster', () => {
  it('stores keyless messages on a partition the receiving node leads', async () => {
    for (const n of nodes) {
      const answer = await waitFor(async () => {
        const r = await post(n, `/v1/topics/${TOPIC}/messages`, { messages: [{ value: `from-${n.id}` }] });
        return r.status === 200 ? r : undefined;
      }, { timeoutMs: 10_000, what: `a keyless produce through node ${n.id}` });
      const { offsets } = (await answer.json()) as any;
      expect(leaders.get(offsets[0].partition)).toBe(n.id);
    }
  });

  it('redirects a fetch and a produce for a partition another node leads, and the redirect serves them', async () => {
    const [partition, leader] = [...leaders][0];
    const other = nodes.find((n) => n.id !== leader)!;
    const path = `/v1/topics/${TOPIC}/partitions/${partition}/messages?offset=0`;
    const moved = await fetch(url(other, path), { redirect: 'manual' });
    expect(moved.status).toBe(307);
    expect(moved.headers.get('location')).toBe(url(byId(leader), path));
    expect(((await moved.json()) as any).error).toBe('NOT_LEADER_OR_FOLLOWER');

    const produced = await post(other, `/v1/topics/${TOPIC}/messages`, { messages: [{ value: 'redirected', partition }] });
    expect(produced.status).toBe(307);
    const followed = await post(other, `/v1/topics/${TOPIC}/messages`, { messages: [{ value: 'followed', partition }] }, 'follow');
    expect(followed.status).toBe(200);
    const stored = ((await followed.json()) as any).offsets[0];
    expect(stored.partition).toBe(partition);

    const fetched: any = await (await fetch(url(other, `/v1/topics/${TOPIC}/partitions/${partition}/messages?offset=${stored.offset}`))).json();
    expect(fetched.messages.map((m: { value: string }) => m.value)).toEqual(['followed']);
  });

  it('answers 421 for one request spanning partitions that different nodes lead, storing nothing', async () => {
    const n = nodes[0];
    const remote = [...leaders].filter(([, l]) => l !== n.id).map(([p]) => p);
    expect(remote).toHaveLength(2);
    const answer = await post(n, `/v1/topics/${TOPIC}/messages`, { messages: remote.map((partition) => ({ value: 'split-me', partition })) });
    expect(answer.status).toBe(421);
    const body = (await answer.json()) as any;
    expect(body.error).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(body.message).toMatch(/different nodes lead/);
  });
});
