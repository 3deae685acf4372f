// The HTTP API against a real broker process over real HTTP: every endpoint, every error path of
// the issue (status, error code and message), long polls and their bound, clients that go away
// mid-request, and a short autocannon run whose every acknowledged offset is fetched back.

import autocannon from 'autocannon';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
import { HttpClient, type HttpAnswer } from '../helpers/http-client.js';
import { killBroker, startBroker, type BrokerProcess } from './fixtures/broker-process.js';

const tempDir = tempDirs();
const MAX_BODY = 64 * 1024;
const MAX_LONG_POLLS = 2;
let broker: BrokerProcess;
let http: HttpClient;

beforeAll(async () => {
  broker = await startBroker(tempDir(), ['--workers', '2', '--http-max-body-bytes', String(MAX_BODY), '--http-max-long-polls', String(MAX_LONG_POLLS)]);
  http = new HttpClient(broker.httpPort);
}, 30_000);

afterAll(async () => {
  http?.close();
  if (broker !== undefined && broker.child.exitCode === null) await killBroker(broker);
});

function expectError(answer: HttpAnswer, status: number, error: string, message: RegExp | string): void {
  expect({ status: answer.status, error: answer.body?.error }).toEqual({ status, error });
  expect(typeof answer.body.code).toBe('number');
  expect(answer.body.message).toMatch(message);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
}

let topicSeq = 0;
async function createTopic(partitions = 1, config?: Record<string, string | number>): Promise<string> {
  const name = `t${++topicSeq}-${partitions}`;
  const answer = await http.post('/v1/topics', { name, partitions, ...(config === undefined ? {} : { config }) });
  expect(answer.status).toBe(201);
  return name;
}

const produce = (topic: string, messages: unknown[], query = '') => http.post(`/v1/topics/${topic}/messages${query}`, { messages });
const fetchFrom = (topic: string, partition: number, query: string) => http.get(`/v1/topics/${topic}/partitions/${partition}/messages?${query}`);

async function metric(name: string): Promise<number> {
  const text = (await http.get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('topics', () => {
  it('creates, lists, describes and deletes a topic', async () => {
    const created = await http.post('/v1/topics', { name: 'orders', partitions: 3, config: { 'retention.ms': 3_600_000, 'flush.mode': 'sync' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders', internal: false, config: { 'retention.ms': '3600000', 'flush.mode': 'sync' } });
    expect(created.body.partitions).toHaveLength(3);
    expect((await http.get('/v1/topics')).body.topics).toContainEqual({ name: 'orders', partitions: 3, internal: false });

    expect((await produce('orders', [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }])).status).toBe(200);
    const described = await http.get('/v1/topics/orders');
    expect(described.status).toBe(200);
    expect(described.body.partitions[1]).toMatchObject({ partition: 1, leader: 1, logStartOffset: 0, logEndOffset: 2, highWatermark: 2 });
    expect(described.body.partitions[1].sizeBytes).toBeGreaterThan(0);
    expect(described.body.partitions[0]).toMatchObject({ logEndOffset: 0, sizeBytes: 0 });
    expect(described.body.topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.body.topicId).toBe(described.body.topicId);

    const deleted = await http.call('DELETE', '/v1/topics/orders');
    expect(deleted).toMatchObject({ status: 200, body: { name: 'orders', deleted: true } });
    expectError(await http.get('/v1/topics/orders'), 404, 'UNKNOWN_TOPIC_OR_PARTITION', "topic 'orders' does not exist");
    expectError(await http.call('DELETE', '/v1/topics/orders'), 404, 'UNKNOWN_TOPIC_OR_PARTITION', /orders/);
    // The same name again is another topic: a new id, and none of the old records.
    expect((await http.post('/v1/topics', { name: 'orders', partitions: 3 })).status).toBe(201);
    const reborn = await http.get('/v1/topics/orders');
    expect(reborn.body.topicId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reborn.body.topicId).not.toBe(described.body.topicId);
    expect(reborn.body.partitions[1]).toMatchObject({ logStartOffset: 0, logEndOffset: 0 });
    expect((await http.call('DELETE', '/v1/topics/orders')).status).toBe(200);
  });

  it('grows a topic: the old partitions keep their data, the new ones take messages; bad counts and internal topics are refused', async () => {
    const name = await createTopic(2);
    expect((await produce(name, [{ value: 'kept', partition: 1 }])).status).toBe(200);
    const checked = await http.post(`/v1/topics/${name}/partitions`, { count: 4, validateOnly: true });
    expect(checked).toMatchObject({ status: 200, body: { name, partitions: 4, validateOnly: true } });
    expect((await http.get(`/v1/topics/${name}`)).body.partitions).toHaveLength(2);
    const grown = await http.post(`/v1/topics/${name}/partitions`, { count: 4 });
    expect(grown.status).toBe(200);
    expect(grown.body.partitions).toHaveLength(4);
    expect(grown.body.partitions[1]).toMatchObject({ logEndOffset: 1 });
    expect((await produce(name, [{ value: 'new', partition: 3 }])).status).toBe(200);
    expect((await fetchFrom(name, 3, 'offset=0')).body.messages.map((m: { value: unknown }) => m.value)).toEqual(['new']);

    expectError(await http.post(`/v1/topics/${name}/partitions`, { count: 3 }), 400, 'INVALID_PARTITIONS', 'Topic currently has 4 partitions, which is higher than the requested 3');
    expectError(await http.post(`/v1/topics/${name}/partitions`, { count: 20_000 }), 400, 'INVALID_PARTITIONS', /10,?000/);
    expectError(await http.post(`/v1/topics/${name}/partitions`, { count: '5' }), 400, 'INVALID_REQUEST', /"count" must be a positive integer/);
    expectError(await http.post(`/v1/topics/${name}/partitions`, { count: 5, validateOnly: 'yes' }), 400, 'INVALID_REQUEST', /"validateOnly"/);
    expectError(await http.post('/v1/topics/__consumer_offsets/partitions', { count: 50 }), 400, 'INVALID_REQUEST', /__consumer_offsets|internal/);
    expectError(await http.post('/v1/topics/no-such-topic/partitions', { count: 5 }), 404, 'UNKNOWN_TOPIC_OR_PARTITION', /no-such-topic/);
    expect((await http.get(`/v1/topics/${name}`)).body.partitions).toHaveLength(4);
  });

  it('refuses bad topic requests with the binary protocol\'s codes', async () => {
    const name = await createTopic(1);
    expectError(await http.post('/v1/topics', { name, partitions: 1 }), 409, 'TOPIC_ALREADY_EXISTS', /exists/);
    expectError(await http.post('/v1/topics', { name: 'bad/name', partitions: 1 }), 400, 'INVALID_TOPIC_EXCEPTION', /bad\/name/);
    expectError(await http.post('/v1/topics', { name: 'zero', partitions: 0 }), 400, 'INVALID_PARTITIONS', /partition/i);
    expectError(await http.post('/v1/topics', { name: 'cfg', config: { 'retention.ms': 'soon' } }), 400, 'INVALID_CONFIG', /retention\.ms/);
    expectError(await http.post('/v1/topics', { name: 'cfg', config: { 'no.such.setting': 1 } }), 400, 'INVALID_CONFIG', /no\.such\.setting/);
    expectError(await http.post('/v1/topics', { partitions: 1 }), 400, 'INVALID_REQUEST', '"name" must be a non-empty string');
    expectError(await http.post('/v1/topics', { name: 'x', partitions: '3' }), 400, 'INVALID_REQUEST', '"partitions" must be an integer');
    expectError(await http.post('/v1/topics', { name: 'x', config: [1] }), 400, 'INVALID_REQUEST', /"config" must be an object/);
    expectError(await http.post('/v1/topics', { name: 'x', replicationFactor: 3 }), 400, 'INVALID_REPLICATION_FACTOR', /replication factor 3/);
    expectError(await http.call('POST', '/v1/topics', { body: '{"name": ', contentType: 'application/json' }), 400, 'INVALID_REQUEST', /not valid JSON/);
    expectError(await http.call('POST', '/v1/topics', { body: 'name=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json/);
    expectError(await http.call('POST', '/v1/topics', { body: '{"name":"x"}' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /got none/);
  });
});

describe('produce and fetch', () => {
  it('stores strings, JSON values, binary values, keys and headers, and returns offsets in request order', async () => {
    const topic = await createTopic(2);
    const answer = await produce(topic, [
      { value: 'plain text', partition: 0 },
      { value: { total: 42, items: ['a'] }, partition: 1 },
      { valueBase64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'), key: 'k1', partition: 0 },
      { value: 7, keyBase64: Buffer.from([0xc3]).toString('base64'), headers: { trace: 'abc', empty: null }, partition: 0 },
      { value: null, headers: [{ key: 'h', value: '1' }, { key: 'h', value: '2' }], partition: 1 },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body.offsets).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 0, offset: 1 },
      { partition: 0, offset: 2 },
      { partition: 1, offset: 1 },
    ]);

    const p0 = await fetchFrom(topic, 0, 'offset=0');
    expect(p0.status).toBe(200);
    expect(p0.body).toMatchObject({ nextOffset: 3, highWatermark: 3, logStartOffset: 0 });
    const [m0, m1, m2] = p0.body.messages;
    expect(m0).toMatchObject({ offset: 0, key: null, value: 'plain text', headers: [] });
    expect(typeof m0.timestamp).toBe('number');
    // Not UTF-8: given as base64 rather than mangled.
    expect(m1).toMatchObject({ offset: 1, key: 'k1', valueBase64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') });
    expect(m1.value).toBeUndefined();
    expect(m2).toMatchObject({ offset: 2, keyBase64: 'ww==', value: '7', headers: [{ key: 'trace', value: 'abc' }, { key: 'empty', value: null }] });

    const p1 = await fetchFrom(topic, 1, 'offset=0');
    expect(p1.body.messages.map((m: { value: string }) => m.value)).toEqual(['{"total":42,"items":["a"]}', 'null']);
    expect(p1.body.messages[1].headers).toEqual([{ key: 'h', value: '1' }, { key: 'h', value: '2' }]);

    const b64 = await fetchFrom(topic, 0, 'offset=0&encoding=base64');
    expect(b64.body.messages.map((m: { value: string }) => Buffer.from(m.value, 'base64').toString('latin1'))).toEqual(['plain text', '\xff\x00\xfe', '7']);
    expect(b64.body.messages[2].headers[0]).toEqual({ key: 'trace', value: Buffer.from('abc').toString('base64') });
  });

  it('puts a key where murmur2 puts it, and keyless messages of a request together', async () => {
    const topic = await createTopic(4);
    const keyed = await produce(topic, [{ key: 'user-1', value: 'a' }, { key: 'user-1', value: 'b' }]);
    expect(new Set(keyed.body.offsets.map((o: { partition: number }) => o.partition)).size).toBe(1);
    const keyless = await produce(topic, Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })));
    const partitions = keyless.body.offsets.map((o: { partition: number }) => o.partition);
    expect(new Set(partitions).size).toBe(1);
    expect(keyless.body.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 1, 2, 3, 4].map((i) => keyless.body.offsets[0].offset + i));
  });

  it('produces a raw body as one message, key and partition from the query', async () => {
    const topic = await createTopic(2);
    const bytes = Buffer.from([0, 1, 2, 250, 251]);
    const answer = await http.call('POST', `/v1/topics/${topic}/messages?key=device-9&partition=1`, { body: bytes, contentType: 'application/octet-stream' });
    expect(answer).toMatchObject({ status: 200, body: { offsets: [{ partition: 1, offset: 0 }] } });
    const fetched = await fetchFrom(topic, 1, 'offset=0&encoding=base64');
    expect(fetched.body.messages[0]).toMatchObject({ key: Buffer.from('device-9').toString('base64'), value: bytes.toString('base64') });
  });

  it('answers acks=0 at once with 202, and the messages arrive', async () => {
    const topic = await createTopic(1);
    const answer = await produce(topic, [{ value: 'fire' }, { value: 'forget' }], '?acks=0');
    expect(answer).toMatchObject({ status: 202, body: { offsets: [{ partition: 0, offset: null }, { partition: 0, offset: null }] } });
    const fetched = await waitFor(async () => {
      const r = await fetchFrom(topic, 0, 'offset=0');
      return r.body.messages.length === 2 ? r : undefined;
    }, { what: 'acks=0 messages to be fetchable' });
    expect(fetched.body.messages.map((m: { value: string }) => m.value)).toEqual(['fire', 'forget']);
  });

  it('pages with maxMessages and nextOffset, and knows earliest and latest', async () => {
    const topic = await createTopic(1);
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ value: `m${i}` })));
    await produce(topic, Array.from({ length: 10 }, (_, i) => ({ value: `m${10 + i}` })));
    const values: string[] = [];
    let offset = 0;
    for (let page = 0; page < 10 && offset < 20; page++) {
      const r = await fetchFrom(topic, 0, `offset=${offset}&maxMessages=3`);
      expect(r.body.messages.length).toBeLessThanOrEqual(3);
      values.push(...r.body.messages.map((m: { value: string }) => m.value));
      offset = r.body.nextOffset;
    }
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    // From the middle of a batch: the records before the offset are not returned.
    expect((await fetchFrom(topic, 0, 'offset=5&maxMessages=1')).body.messages[0]).toMatchObject({ offset: 5, value: 'm5' });
    expect((await fetchFrom(topic, 0, 'maxMessages=1')).body.messages[0].offset).toBe(0);
    expect(await fetchFrom(topic, 0, 'offset=latest')).toMatchObject({ status: 200, body: { messages: [], nextOffset: 20, highWatermark: 20 } });
    const small = await fetchFrom(topic, 0, 'offset=0&maxBytes=1');
    expect(small.body.messages.length).toBe(10); // the first batch comes whole
  });

  it('refuses bad produce requests, storing nothing', async () => {
    const topic = await createTopic(2);
    expectError(await produce('no-such-topic', [{ value: 'x' }]), 404, 'UNKNOWN_TOPIC_OR_PARTITION', "topic 'no-such-topic' does not exist");
    expectError(await produce(topic, [{ value: 'ok' }, { value: 'x', partition: 7 }]), 404, 'UNKNOWN_TOPIC_OR_PARTITION', /no partition 7/);
    expectError(await http.call('POST', `/v1/topics/${topic}/messages`, { body: '{"messages": [', contentType: 'application/json' }), 400, 'INVALID_REQUEST', /not valid JSON/);
    expectError(await http.call('POST', `/v1/topics/${topic}/messages`, { body: 'hello', contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json or application\/octet-stream, got 'text\/plain'/);
    expectError(await http.post(`/v1/topics/${topic}/messages`, { msgs: [] }), 400, 'INVALID_REQUEST', '"messages" must be an array of messages');
    expectError(await http.post(`/v1/topics/${topic}/messages`, [1]), 400, 'INVALID_REQUEST', /must be a JSON object/);
    expectError(await produce(topic, []), 400, 'INVALID_REQUEST', /at least one message/);
    expectError(await produce(topic, [{ key: 'k' }]), 400, 'INVALID_REQUEST', 'messages[0] must have exactly one of "value" and "valueBase64"');
    expectError(await produce(topic, [{ value: 'a', valueBase64: 'YQ==' }]), 400, 'INVALID_REQUEST', /exactly one of/);
    expectError(await produce(topic, [{ valueBase64: 'not base64!' }]), 400, 'INVALID_REQUEST', 'messages[0].valueBase64 must be a base64 string');
    expectError(await produce(topic, [{ value: 'a', key: 5 }]), 400, 'INVALID_REQUEST', 'messages[0].key must be a string (or use keyBase64)');
    expectError(await produce(topic, [{ value: 'a', partition: '1' }]), 400, 'INVALID_REQUEST', 'messages[0].partition must be a non-negative integer');
    expectError(await produce(topic, [{ value: 'a' }, { value: 'b', headers: 'x' }]), 400, 'INVALID_REQUEST', /messages\[1\]\.headers must be/);
    expectError(await produce(topic, [{ value: 'a', headers: { h: 1 } }]), 400, 'INVALID_REQUEST', 'messages[0].headers.h must be a string or null');
    expectError(await produce(topic, [{ value: 'a' }], '?acks=all'), 400, 'INVALID_REQUEST', "acks must be one of 0, 1, got 'all'");
    expectError(await http.call('POST', `/v1/topics/${topic}/messages?partition=x`, { body: 'raw', contentType: 'application/octet-stream' }), 400, 'INVALID_REQUEST', "partition must be an integer, got 'x'");
    const described = await http.get(`/v1/topics/${topic}`);
    expect(described.body.partitions.map((p: { logEndOffset: number }) => p.logEndOffset)).toEqual([0, 0]);
  });

  it('refuses bodies over http.max.body.bytes with 413, and batches over max.message.bytes', async () => {
    const topic = await createTopic(1, { 'max.message.bytes': 2000 });
    const big = { messages: [{ value: 'x'.repeat(MAX_BODY) }] };
    expectError(await http.post(`/v1/topics/${topic}/messages`, big), 413, 'REQUEST_BODY_TOO_LARGE', `larger than http.max.body.bytes (${MAX_BODY})`);
    expectError(await http.post(`/v1/topics/${topic}/messages`, big, { chunked: true }), 413, 'REQUEST_BODY_TOO_LARGE', /http\.max\.body\.bytes/);
    expectError(await http.call('POST', `/v1/topics/${topic}/messages`, { body: Buffer.alloc(MAX_BODY + 1), contentType: 'application/octet-stream' }), 413, 'REQUEST_BODY_TOO_LARGE', /http\.max\.body\.bytes/);
    expectError(await produce(topic, [{ value: 'y'.repeat(3000) }]), 413, 'MESSAGE_TOO_LARGE', /over the 2000 bytes allowed/);
    // The same keep-alive client goes on being served.
    expect((await produce(topic, [{ value: 'small' }])).body.offsets).toEqual([{ partition: 0, offset: 0 }]);
  });

  it('closes the connection after a 413 for a body too large to read, answering first', async () => {
    const topic = await createTopic(1);
    const socket = await rawConnect();
    socket.write(`POST /v1/topics/${topic}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * MAX_BODY}\r\n\r\n`);
    const response = await readUntilClosed(socket);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toMatch(/connection: close/i);
    expect(response).toContain('"error":"REQUEST_BODY_TOO_LARGE"');
  });

  it('answers out-of-range offsets with 416 and the valid range', async () => {
    const topic = await createTopic(1);
    await produce(topic, [{ value: 'a' }, { value: 'b' }]);
    const answer = await fetchFrom(topic, 0, 'offset=5');
    expectError(answer, 416, 'OFFSET_OUT_OF_RANGE', /offset 5 is outside .*offsets 0 up to 2/);
    expect(answer.body.details).toEqual({ offset: 5, logStartOffset: 0, highWatermark: 2 });
  });

  it('refuses bad fetch requests', async () => {
    const topic = await createTopic(1);
    expectError(await fetchFrom('nope', 0, 'offset=0'), 404, 'UNKNOWN_TOPIC_OR_PARTITION', "topic 'nope' does not exist");
    expectError(await fetchFrom(topic, 3, 'offset=0'), 404, 'UNKNOWN_TOPIC_OR_PARTITION', /partitions 0\.\.0; there is no partition 3/);
    expectError(await http.get(`/v1/topics/${topic}/partitions/one/messages`), 400, 'INVALID_REQUEST', "partition must be an integer, got 'one'");
    expectError(await fetchFrom(topic, 0, 'offset=-1'), 400, 'INVALID_REQUEST', /offset must be a non-negative integer, 'earliest' or 'latest'/);
    expectError(await fetchFrom(topic, 0, 'offset=abc'), 400, 'INVALID_REQUEST', /offset must be/);
    expectError(await fetchFrom(topic, 0, 'maxMessages=0'), 400, 'INVALID_REQUEST', 'maxMessages must be between 1 and 10000, got 0');
    expectError(await fetchFrom(topic, 0, 'maxMessages=1O'), 400, 'INVALID_REQUEST', "maxMessages must be an integer, got '1O'");
    expectError(await fetchFrom(topic, 0, 'maxBytes=0'), 400, 'INVALID_REQUEST', /maxBytes must be between 1 and/);
    expectError(await fetchFrom(topic, 0, 'waitMs=-5'), 400, 'INVALID_REQUEST', /waitMs must be between 0 and 60000/);
    expectError(await fetchFrom(topic, 0, 'waitMs=999999999'), 400, 'INVALID_REQUEST', /waitMs must be between 0 and 60000/);
    expectError(await fetchFrom(topic, 0, 'encoding=hex'), 400, 'INVALID_REQUEST', "encoding must be one of utf8, base64, got 'hex'");
  });
});

describe('long polls', () => {
  it('wakes a waiting fetch when a message arrives', async () => {
    const topic = await createTopic(1);
    const waiting = fetchFrom(topic, 0, 'offset=0&waitMs=30000');
    await waitFor(async () => (await metric('rill_http_long_polls_waiting')) >= 1, { what: 'the fetch to be waiting' });
    await produce(topic, [{ value: 'wake up' }]);
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body.messages.map((m: { value: string }) => m.value)).toEqual(['wake up']);
    await waitFor(async () => (await metric('rill_http_long_polls_waiting')) === 0, { what: 'the long poll to be released' });
  });

  it('answers an empty long poll after waitMs', async () => {
    const topic = await createTopic(1);
    expect(await fetchFrom(topic, 0, 'offset=0&waitMs=50')).toMatchObject({ status: 200, body: { messages: [], nextOffset: 0, highWatermark: 0 } });
  });

  it('refuses long polls beyond http.max.long.polls with 429, and takes them again once they end', async () => {
    const topic = await createTopic(1);
    const clients = Array.from({ length: MAX_LONG_POLLS }, () => new HttpClient(broker.httpPort));
    try {
      const polls = clients.map((c) => c.get(`/v1/topics/${topic}/partitions/0/messages?offset=0&waitMs=30000`));
      await waitFor(async () => (await metric('rill_http_long_polls_waiting')) === MAX_LONG_POLLS, { what: `${MAX_LONG_POLLS} long polls waiting` });
      expectError(await fetchFrom(topic, 0, 'offset=0&waitMs=1000'), 429, 'TOO_MANY_LONG_POLLS', `(http.max.long.polls = ${MAX_LONG_POLLS})`);
      // A fetch that does not wait is not a long poll.
      expect((await fetchFrom(topic, 0, 'offset=0')).status).toBe(200);
      await produce(topic, [{ value: 'release' }]);
      for (const poll of await Promise.all(polls)) expect(poll.body.messages[0].value).toBe('release');
      expect((await fetchFrom(topic, 0, 'offset=1&waitMs=10')).status).toBe(200);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

describe('clients that go away', () => {
  it('ends the owner-side wait of a long poll whose client disconnected', async () => {
    const topic = await createTopic(1);
    const socket = await rawConnect();
    socket.write(`GET /v1/topics/${topic}/partitions/0/messages?offset=0&waitMs=60000 HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(async () => (await metric('rill_http_long_polls_waiting')) === 1, { what: 'the long poll to wait' });
    socket.destroy();
    // Released long before the 60 s wait would have ended it.
    await waitFor(async () => (await metric('rill_http_long_polls_waiting')) === 0, { what: 'the abandoned long poll to be released' });
    // Counted as the client's doing (499, nginx's "client closed request"), not as an answer.
    await waitFor(async () => (await metric('rill_http_requests_total{api="fetch",status="499"}')) >= 1, { what: 'the abandoned poll to be counted as 499' });
    expect((await produce(topic, [{ value: 'after' }])).body.offsets).toEqual([{ partition: 0, offset: 0 }]);
  });

  it('stores nothing from a body cut short, and keeps serving everyone else', async () => {
    const topic = await createTopic(1);
    const body = JSON.stringify({ messages: [{ value: 'never complete' }] });
    const cut = await rawConnect();
    cut.write(`POST /v1/topics/${topic}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    const halfClosed = await rawConnect();
    halfClosed.write(`POST /v1/topics/${topic}/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    halfClosed.end();
    cut.destroy();
    await readUntilClosed(halfClosed);
    expect((await produce(topic, [{ value: 'complete' }])).body.offsets).toEqual([{ partition: 0, offset: 0 }]);
    const fetched = await fetchFrom(topic, 0, 'offset=0');
    expect(fetched.body.messages.map((m: { value: string }) => m.value)).toEqual(['complete']);
    expect((await http.get('/healthz')).status).toBe(200);
  });
});

describe('offsets', () => {
  it('lists earliest, latest and the offset for a time', async () => {
    const topic = await createTopic(1);
    expect((await http.get(`/v1/topics/${topic}/partitions/0/offsets`)).body).toEqual({ topic, partition: 0, earliest: 0, latest: 0 });
    const before = Date.now() - 1000;
    await produce(topic, [{ value: 'a' }, { value: 'b' }]);
    const byTime = await http.get(`/v1/topics/${topic}/partitions/0/offsets?timestamp=${before}`);
    expect(byTime.body).toMatchObject({ earliest: 0, latest: 2, offset: 0 });
    expect(byTime.body.timestamp).toBeGreaterThanOrEqual(before);
    expect((await http.get(`/v1/topics/${topic}/partitions/0/offsets?timestamp=${Date.now() + 3_600_000}`)).body).toMatchObject({ offset: 2, timestamp: null });
    expect((await http.get(`/v1/topics/${topic}/partitions/0/offsets?timestamp=latest`)).body).toMatchObject({ offset: 2, timestamp: null });
    expect((await http.get(`/v1/topics/${topic}/partitions/0/offsets?timestamp=earliest`)).body).toMatchObject({ offset: 0 });
  });

  it('refuses unknown partitions and bad timestamps', async () => {
    const topic = await createTopic(1);
    expectError(await http.get(`/v1/topics/${topic}/partitions/1/offsets`), 404, 'UNKNOWN_TOPIC_OR_PARTITION', /no partition 1/);
    expectError(await http.get('/v1/topics/nope/partitions/0/offsets'), 404, 'UNKNOWN_TOPIC_OR_PARTITION', "topic 'nope' does not exist");
    expectError(await http.get(`/v1/topics/${topic}/partitions/0/offsets?timestamp=yesterday`), 400, 'INVALID_REQUEST', /timestamp must be 'earliest', 'latest' or a time in milliseconds/);
  });
});

describe('operations', () => {
  it('answers /healthz, /readyz and unknown endpoints', async () => {
    expect(await http.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await http.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    expectError(await http.get('/v2/topics'), 404, 'NOT_FOUND', 'no endpoint /v2/topics; see GET /v1/openapi.json');
    const wrongMethod = await http.call('PUT', '/v1/topics');
    expectError(wrongMethod, 405, 'METHOD_NOT_ALLOWED', 'PUT is not supported on /v1/topics; use POST, GET');
    expect(wrongMethod.headers.allow).toBe('POST, GET');
  });

  it('keeps connections alive', async () => {
    const answer = await http.get('/healthz');
    expect(answer.headers.connection).toBe('keep-alive');
    expect(answer.headers['keep-alive']).toMatch(/timeout=\d+/);
  });

  it('serves Prometheus metrics', async () => {
    const topic = await createTopic(1);
    await produce(topic, [{ value: 'counted' }]);
    await fetchFrom(topic, 0, 'offset=0');
    const answer = await http.get('/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      `rill_messages_in_total{topic="${topic}"} 1`,
      `rill_messages_out_total{topic="${topic}"} 1`,
      `rill_bytes_in_total{topic="${topic}"}`,
      `rill_bytes_out_total{topic="${topic}"}`,
      'rill_http_requests_total{api="produce",status="200"}',
      'rill_http_request_duration_seconds_bucket{le="0.001",api="produce",status="200"}',
      'rill_ring_request_used_bytes{worker="0"}',
      'rill_ring_request_capacity_bytes{worker="1"}',
      'rill_ring_backpressure_events_total{worker="0"}',
      'rill_worker_requests_in_flight{worker="0"}',
      'rill_open_partitions{worker="0"}',
      'rill_open_segments{worker="1"}',
      'rill_log_bytes{worker="0"}',
      'rill_log_flushes_total{worker="0"}',
      'rill_log_flush_seconds_total{worker="0"}',
      'rill_http_long_polls_waiting',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(answer.text).toContain(name);
    }
  });

  it('keeps per-topic counts across scrapes and forgets a deleted topic', async () => {
    const topic = await createTopic(1);
    await produce(topic, [{ value: 'a' }, { value: 'b' }]);
    expect(await metric(`rill_messages_in_total{topic="${topic}"}`)).toBe(2);
    await produce(topic, [{ value: 'c' }]);
    expect(await metric(`rill_messages_in_total{topic="${topic}"}`)).toBe(3); // a total, not the count since the last scrape
    const before = await metric('rill_http_requests_total{api="produce",status="200"}');
    await produce(topic, [{ value: 'd' }]);
    expect(await metric('rill_http_requests_total{api="produce",status="200"}')).toBe(before + 1);
    expect((await http.call('DELETE', `/v1/topics/${topic}`)).status).toBe(200);
    expect((await http.get('/metrics')).text).not.toContain(`topic="${topic}"`);
  });

  it('serves an OpenAPI 3 document describing every endpoint', async () => {
    const answer = await http.get('/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toMatch(/^3\./);
    expect(Object.keys(answer.body.paths).sort()).toEqual(
      ['/healthz', '/metrics', '/readyz', '/v1/openapi.json', '/v1/topics', '/v1/topics/{topic}', '/v1/topics/{topic}/messages', '/v1/topics/{topic}/partitions', '/v1/topics/{topic}/partitions/{partition}/messages', '/v1/topics/{topic}/partitions/{partition}/offsets',
        '/v1/groups', '/v1/groups/{group}', '/v1/groups/{group}/members', '/v1/groups/{group}/members/{member}', '/v1/groups/{group}/members/{member}/subscription',
        '/v1/groups/{group}/members/{member}/messages', '/v1/groups/{group}/members/{member}/offsets', '/v1/groups/{group}/members/{member}/assignment'].sort(),
    );
  });
});

describe('under load', () => {
  it('answers a short autocannon run with no errors, and every acknowledged offset holds its value', async () => {
    const topic = await createTopic(4);
    const acknowledged = new Map<string, string>(); // "partition/offset" -> value
    let sent = 0;
    const result = await autocannon({
      url: `http://127.0.0.1:${broker.httpPort}`,
      connections: 8,
      amount: 400,
      requests: [
        {
          method: 'POST',
          path: `/v1/topics/${topic}/messages`,
          headers: { 'content-type': 'application/json' },
          // One request in flight per connection (no pipelining), so the connection's context
          // carries what its request sent to its response.
          setupRequest: (request, context) => {
            const n = sent++;
            // Each request carries its own values: 1 to 3 messages, some keyed.
            const messages = Array.from({ length: 1 + (n % 3) }, (_, i) => ({ value: `load-${n}-${i}`, ...(i === 1 ? { key: `k${n % 7}` } : {}) }));
            (context as { values?: string[] }).values = messages.map((m) => m.value);
            return { ...request, body: JSON.stringify({ messages }) };
          },
          onResponse: (status, body, context) => {
            if (status !== 200) return;
            const values = (context as { values: string[] }).values;
            const { offsets } = JSON.parse(body) as { offsets: { partition: number; offset: number }[] };
            offsets.forEach((o, i) => acknowledged.set(`${o.partition}/${o.offset}`, values[i]));
          },
        },
      ],
    });
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    expect(result['2xx']).toBe(400);
    // Read every partition back: every acknowledged offset is there, and values are unique and
    // well-formed (each request's values went in together, in order).
    const stored = new Map<string, string>();
    for (let p = 0; p < 4; p++) {
      let offset = 0;
      for (;;) {
        const page = await fetchFrom(topic, p, `offset=${offset}&maxMessages=1000`);
        expect(page.status).toBe(200);
        for (const m of page.body.messages) stored.set(`${p}/${m.offset}`, m.value);
        if (page.body.nextOffset >= page.body.highWatermark) break;
        offset = page.body.nextOffset;
      }
    }
    expect(acknowledged.size).toBeGreaterThanOrEqual(400);
    for (const [key, value] of acknowledged) expect(stored.get(key)).toBe(value);
    const values = [...stored.values()];
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v).toMatch(/^load-\d+-[0-2]$/);
  }, 60_000);

  it('logged no internal fault during the whole run', () => {
    // Every error path above is the client's (4xx); a 5xx would be logged at error level.
    expect(broker.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});

function rawConnect(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(broker.httpPort, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.once('close', () => resolve(text));
  });
}
