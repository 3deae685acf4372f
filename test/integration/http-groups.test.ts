// Consumer-group consumption over HTTP against a real broker process: members created, subscribed,
// polled and deleted by HTTP requests share a topic's partitions, commit, and hand partitions over
// when one leaves; the error paths (unknown member, no subscription, bad bodies, duplicate names,
// limits) answer with their codes; an idle member is closed and leaves its group.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, type HttpAnswer } from '../helpers/http-client.js';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
const GROUP_FLAGS = ['--group-initial-rebalance-delay-ms', '0', '--group-min-session-timeout-ms', '1000'];

function expectError(answer: HttpAnswer, status: number, error: string, message: RegExp | string): void {
  expect({ status: answer.status, error: answer.body?.error }).toEqual({ status, error });
  expect(answer.body.message).toMatch(message);
}

interface Polled {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
}

describe('HTTP group members', () => {
  let broker: BrokerProcess;
  let http: HttpClient;
  let seq = 0;

  beforeAll(async () => {
    broker = await startBroker(tempDir(), ['--workers', '2', '--http-max-group-members', '4', ...GROUP_FLAGS]);
    http = new HttpClient(broker.httpPort);
  }, 30_000);

  afterAll(async () => {
    http?.close();
    if (broker !== undefined && broker.child.exitCode === null) await killBroker(broker);
  });

  async function topicWith(partitions: number, messages: number): Promise<string> {
    const topic = `hg${++seq}`;
    expect((await http.post('/v1/topics', { name: topic, partitions })).status).toBe(201);
    if (messages > 0) {
      const batch = Array.from({ length: messages }, (_, i) => ({ key: `k${i}`, value: `m${i}` }));
      expect((await http.post(`/v1/topics/${topic}/messages`, { messages: batch })).status).toBe(200);
    }
    return topic;
  }

  async function member(group: string, body: Record<string, unknown> = {}): Promise<string> {
    const created = await http.post(`/v1/groups/${group}/members`, { autoOffsetReset: 'earliest', sessionTimeoutMs: 6000, ...body });
    expect(created.status).toBe(201);
    expect(created.body.uri).toBe(`/v1/groups/${group}/members/${created.body.name}`);
    return created.body.uri as string;
  }

  const del = (path: string) => http.call('DELETE', path);
  const poll = async (uri: string, waitMs = 200): Promise<Polled[]> => {
    const answer = await http.get(`${uri}/messages?waitMs=${waitMs}&maxMessages=1000`);
    expect(answer.status).toBe(200);
    return answer.body.messages;
  };

  it('two members share a topic, each message reaches exactly one of them, and a leaving member hands its partitions over', async () => {
    const topic = await topicWith(4, 0);
    const group = `g${seq}`;
    const a = await member(group, { name: 'a' });
    const b = await member(group, { name: 'b' });
    expect((await http.post(`${a}/subscription`, { topics: [topic] })).status).toBe(204);
    expect((await http.post(`${b}/subscription`, { topics: [topic] })).status).toBe(204);
    expect((await http.get(`${a}/subscription`)).body).toEqual({ topics: [topic], pattern: null });
    // Polls join the group; the two settle on two partitions each (cooperative-sticky balances).
    const owned = async (uri: string) => (await http.get(`${uri}/assignment`)).body.partitions.length as number;
    await waitFor(
      async () => {
        expect(await poll(a, 50)).toEqual([]);
        expect(await poll(b, 50)).toEqual([]);
        return (await owned(a)) === 2 && (await owned(b)) === 2;
      },
      { timeoutMs: 30_000, what: 'both members to own two partitions' },
    );
    const batch = Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: `m${i}` }));
    expect((await http.post(`/v1/topics/${topic}/messages`, { messages: batch })).status).toBe(200);

    const seen = new Map<string, string>(); // value -> member
    const take = (who: string, messages: Polled[]) => {
      for (const m of messages) {
        expect(seen.has(m.value), `${m.value} delivered twice`).toBe(false);
        seen.set(m.value, who);
      }
    };
    await waitFor(
      async () => {
        take('a', await poll(a));
        take('b', await poll(b));
        return seen.size === 400;
      },
      { timeoutMs: 30_000, what: '400 messages across both members' },
    );
    expect(new Set(seen.values())).toEqual(new Set(['a', 'b'])); // both took part (keys spread over 4 partitions)
    const aParts = (await http.get(`${a}/assignment`)).body.partitions as { partition: number }[];
    const bParts = (await http.get(`${b}/assignment`)).body.partitions as { partition: number }[];
    expect([...aParts, ...bParts].map((p) => p.partition).sort()).toEqual([0, 1, 2, 3]);

    // Commit what was polled; the committed offsets then cover every partition's end.
    expect((await http.post(`${a}/offsets`, undefined)).status).toBe(200);
    const committedB = await http.post(`${b}/offsets`, undefined);
    expect(committedB.status).toBe(200);
    const committed = [...(await http.get(`${a}/offsets`)).body.offsets, ...(await http.get(`${b}/offsets`)).body.offsets];
    expect(committed).toHaveLength(4);
    for (const c of committed) expect(c.lag).toBe(0);

    // The group as the admin endpoints show it.
    const described = await http.get(`/v1/groups/${group}`);
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ groupId: group, state: 'Stable', protocol: 'cooperative-sticky' });
    expect(described.body.members).toHaveLength(2);
    expect(described.body.offsets.map((o: { lag: number }) => o.lag)).toEqual([0, 0, 0, 0]);
    expect((await http.get('/v1/groups')).body.groups).toContainEqual(expect.objectContaining({ groupId: group, state: 'Stable' }));
    expect((await http.get('/v1/groups?state=Empty')).body.groups.map((g: { groupId: string }) => g.groupId)).not.toContain(group);
    expectError(await http.get('/v1/groups?state=Sleeping'), 400, 'INVALID_REQUEST', /unknown group state "Sleeping"/);
    expectError(await del(`/v1/groups/${group}`), 409, 'NON_EMPTY_GROUP', /member/);
    expect((await http.get('/metrics')).text).toMatch(/^rill_http_group_members 2$/m);

    // b leaves; a takes all four partitions, and new messages all reach a, none twice.
    expect((await del(b)).status).toBe(204);
    expectError(await http.get(`${b}/messages`), 404, 'UNKNOWN_GROUP_MEMBER', /no HTTP member named b/);
    const more = Array.from({ length: 100 }, (_, i) => ({ key: `n${i}`, value: `n${i}` }));
    expect((await http.post(`/v1/topics/${topic}/messages`, { messages: more })).status).toBe(200);
    await waitFor(
      async () => {
        take('a', await poll(a));
        return seen.size === 500;
      },
      { timeoutMs: 30_000, what: 'the 100 new messages at a' },
    );
    expect((await http.get(`${a}/assignment`)).body.partitions).toHaveLength(4);
    expect((await del(a)).status).toBe(204);
    // Empty now: it can be deleted, and then it is gone.
    expect((await http.get(`/v1/groups/${group}`)).body.state).toBe('Empty');
    expect((await del(`/v1/groups/${group}`)).status).toBe(204);
    expectError(await http.get(`/v1/groups/${group}`), 404, 'GROUP_ID_NOT_FOUND', /does not exist|no members and no committed offsets/);
  }, 60_000);

  it('at-least-once: what a member polled but never confirmed goes to the next member', async () => {
    const topic = await topicWith(1, 50);
    const group = `g${seq}`;
    const first = await member(group, { autoCommit: false });
    await http.post(`${first}/subscription`, { topics: [topic] });
    const got = await waitFor(async () => {
      const m = await poll(first);
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 20_000, what: 'first poll' });
    expect(got[0].offset).toBe(0);
    // Commit only the first 10; leave without committing more.
    expect((await http.post(`${first}/offsets`, { offsets: [{ topic, partition: 0, offset: 10 }] })).status).toBe(200);
    expect((await del(first)).status).toBe(204);

    const second = await member(group);
    await http.post(`${second}/subscription`, { topics: [topic] });
    const again = await waitFor(async () => {
      const m = await poll(second);
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 20_000, what: 'second member poll' });
    expect(again[0].offset).toBe(10);
    expect((await del(second)).status).toBe(204);
  }, 60_000);

  it('subscribes by pattern, and replaces and removes subscriptions', async () => {
    const topic = await topicWith(1, 5);
    const group = `g${seq}`;
    const uri = await member(group);
    expect((await http.post(`${uri}/subscription`, { pattern: `hg${seq}` })).status).toBe(204);
    expect((await http.get(`${uri}/subscription`)).body).toEqual({ topics: [], pattern: `hg${seq}` });
    const got = await waitFor(async () => {
      const m = await poll(uri);
      return m.length > 0 ? m : undefined;
    }, { timeoutMs: 20_000, what: 'a pattern poll' });
    expect(got[0].topic).toBe(topic);
    expect((await del(`${uri}/subscription`)).status).toBe(204);
    expectError(await http.get(`${uri}/messages`), 409, 'NOT_SUBSCRIBED', /no subscription/);
    expect((await del(uri)).status).toBe(204);
  }, 60_000);

  it('answers bad requests with their codes and keeps serving', async () => {
    const uri = await member('errors', { name: 'e1' });
    expectError(await http.post('/v1/groups/errors/members', { name: 'e1' }), 409, 'GROUP_MEMBER_EXISTS', /already has an HTTP member named e1/);
    expectError(await http.post('/v1/groups/errors/members', { name: 'bad/name' }), 400, 'INVALID_REQUEST', /"name"/);
    expectError(await http.post('/v1/groups/errors/members', { autoOffsetReset: 'middle' }), 400, 'INVALID_REQUEST', /autoOffsetReset/);
    expectError(await http.post('/v1/groups/errors/members', { sessionTimeoutMs: 10 }), 400, 'INVALID_SESSION_TIMEOUT', /sessionTimeoutMs/);
    expectError(await http.post('/v1/groups/errors/members', { surprise: 1 }), 400, 'INVALID_REQUEST', /unknown field "surprise"/);
    expectError(await http.post('/v1/groups/errors/members', { assignor: 'sticky' }), 400, 'INVALID_REQUEST', /assignor/);
    expectError(await http.get(`${uri}/messages`), 409, 'NOT_SUBSCRIBED', /POST its \/subscription/);
    expectError(await http.post(`${uri}/offsets`, undefined), 409, 'NOT_SUBSCRIBED', /no subscription/);
    expectError(await http.post(`${uri}/subscription`, { topics: [] }), 400, 'INVALID_REQUEST', /"topics"/);
    expectError(await http.post(`${uri}/subscription`, { topics: ['a'], pattern: 'b' }), 400, 'INVALID_REQUEST', /exactly one/);
    expectError(await http.post(`${uri}/subscription`, { pattern: '(' }), 400, 'INVALID_REQUEST', /not a valid regular expression/);
    expectError(await http.get('/v1/groups/errors/members/nobody/messages'), 404, 'UNKNOWN_GROUP_MEMBER', /no HTTP member named nobody/);
    expectError(await http.post(`/v1/groups/${'x'.repeat(256)}/members`, {}), 400, 'INVALID_GROUP_ID', /1\.\.255/);

    const topic = await topicWith(2, 1);
    expect((await http.post(`${uri}/subscription`, { topics: [topic] })).status).toBe(204);
    expectError(await http.get(`${uri}/messages?waitMs=-1`), 400, 'INVALID_REQUEST', /waitMs/);
    expectError(await http.post(`${uri}/offsets`, { offsets: [{ topic, partition: -1, offset: 0 }] }), 400, 'INVALID_REQUEST', /partition/);
    await waitFor(
      async () => {
        await poll(uri, 100); // the first poll joins the group
        return (await http.get(`${uri}/assignment`)).body.partitions.length === 2;
      },
      { timeoutMs: 20_000, what: 'the member to own both partitions' },
    );
    const notOwned = await http.post(`${uri}/offsets`, { offsets: [{ topic, partition: 7, offset: 0 }] });
    expect(notOwned.status).toBe(409);
    expect(notOwned.body.error).toBe('PARTITION_NOT_ASSIGNED');

    // The bound on members: 4 on this broker.
    const extra = [await member('errors'), await member('errors'), await member('errors')];
    expectError(await http.post('/v1/groups/errors/members', {}), 429, 'TOO_MANY_GROUP_MEMBERS', /http.max.group.members = 4/);
    for (const e of [...extra, uri]) expect((await del(e)).status).toBe(204);
    // And the broker serves on.
    expect((await http.get(`/v1/topics/${topic}`)).status).toBe(200);
  }, 60_000);
});

describe('an idle HTTP group member', () => {
  it('is closed after http.group.member.idle.ms and leaves its group, so another member gets its partitions', async () => {
    const broker = await startBroker(tempDir(), ['--workers', '1', '--http-group-member-idle-ms', '1000', ...GROUP_FLAGS]);
    const http = new HttpClient(broker.httpPort);
    try {
      expect((await http.post('/v1/topics', { name: 'idle', partitions: 2 })).status).toBe(201);
      const idle = (await http.post('/v1/groups/g/members', { name: 'idle', sessionTimeoutMs: 30_000 })).body.uri;
      expect((await http.post(`${idle}/subscription`, { topics: ['idle'] })).status).toBe(204);
      await http.get(`${idle}/messages?waitMs=100`); // joins
      const busy = (await http.post('/v1/groups/g/members', { name: 'busy', sessionTimeoutMs: 30_000 })).body.uri;
      expect((await http.post(`${busy}/subscription`, { topics: ['idle'] })).status).toBe(204);
      // Only busy is called from now on: idle expires, leaves (well before its 30 s session
      // timeout), and busy is assigned both partitions.
      await waitFor(
        async () => {
          await http.get(`${busy}/messages?waitMs=100`);
          return (await http.get(`${busy}/assignment`)).body.partitions.length === 2;
        },
        { timeoutMs: 20_000, what: 'busy to own both partitions' },
      );
      expect((await http.get(`${idle}/assignment`)).body.error).toBe('UNKNOWN_GROUP_MEMBER');
      expect(broker.logs.some((l) => l.msg === 'HTTP group member expired: closed after its idle timeout' && l.member === 'idle')).toBe(true);
    } finally {
      http.close();
      await killBroker(broker);
    }
  }, 60_000);
});
