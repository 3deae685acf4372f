// The OpenAPI 3 description of the HTTP API, served at GET /v1/openapi.json. Any thread.
// Kept beside the routes it describes; docs/http.md is the prose version with curl examples.

import { type BrokerConfig } from '../broker/config.js';
import { Errors } from '../errors.js';
import { groupPaths } from './openapi-groups.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const int = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int64', description, ...extra });
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const queryParam = (name: string, schema: Schema, description: string) => ({ name, in: 'query', required: false, schema, description });

const topicParam = { name: 'topic', in: 'path', required: true, schema: { type: 'string' }, description: 'Topic name' };
const partitionParam = { name: 'partition', in: 'path', required: true, schema: { type: 'integer', minimum: 0 }, description: 'Partition number' };

/** Error responses every data endpoint can give. */
const commonErrors = {
  '400': error('INVALID_REQUEST: a parameter or field is missing, mistyped or out of range'),
  '404': error('UNKNOWN_TOPIC_OR_PARTITION: no such topic or partition'),
  '500': error('UNKNOWN_SERVER_ERROR: an internal fault (logged by the broker)'),
  '503': error('LEADER_NOT_AVAILABLE (the partition owner is restarting; retry) or STORAGE_ERROR'),
};

export function openApiDocument(config: BrokerConfig): Schema {
  const errorTypes = Object.values(Errors).map((e) => e.type);
  return {
    openapi: '3.0.3',
    info: {
      title: 'Rill HTTP API',
      version: '1',
      description: 'Produce, fetch and administer a Rill broker over HTTP. Errors are `{ "error": TYPE, "code": n, "message": "...", "details": {...} }` with the codes of the binary protocol (src/errors.ts).',
    },
    servers: [{ url: '/', description: `this broker (http.port, default 9480)` }],
    paths: {
      '/v1/topics': {
        get: {
          operationId: 'listTopics',
          summary: 'List topics',
          parameters: [queryParam('includeInternal', { type: 'boolean' }, 'Include "__" topics')],
          responses: { '200': json({ type: 'object', properties: { topics: { type: 'array', items: ref('ListedTopic') } } }, 'The topics') },
        },
        post: {
          operationId: 'createTopic',
          summary: 'Create a topic',
          requestBody: { required: true, content: { 'application/json': { schema: ref('NewTopic') } } },
          responses: {
            '201': json(ref('Topic'), 'Created; the topic as GET /v1/topics/{topic} shows it'),
            '400': error('INVALID_REQUEST, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_CONFIG or INVALID_REPLICATION_FACTOR'),
            '409': error('TOPIC_ALREADY_EXISTS'),
            '413': error('REQUEST_BODY_TOO_LARGE'),
            '415': error('UNSUPPORTED_MEDIA_TYPE: the body must be application/json'),
          },
        },
      },
      '/v1/topics/{topic}': {
        parameters: [topicParam],
        get: { operationId: 'describeTopic', summary: 'Partitions (offsets, sizes) and effective configs of a topic', responses: { '200': json(ref('Topic'), 'The topic'), '404': commonErrors['404'] } },
        delete: {
          operationId: 'deleteTopic',
          summary: 'Delete a topic and its data',
          responses: { '200': json({ type: 'object', properties: { name: { type: 'string' }, deleted: { type: 'boolean' } } }, 'Deleted'), '404': commonErrors['404'] },
        },
      },
      '/v1/topics/{topic}/partitions': {
        parameters: [topicParam],
        post: {
          operationId: 'createPartitions',
          summary: 'Grow a topic to a new total partition count (Kafka\'s createPartitions); existing partitions and their data stay',
          description: 'Keys map over the new count from then on, as in Kafka: a key may go to another partition than before.',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['count'], properties: { count: { type: 'integer', minimum: 1, description: 'The new total, above the current count' }, validateOnly: { type: 'boolean', default: false } } } } },
          },
          responses: {
            '200': json(ref('Topic'), 'Grown; the topic as GET /v1/topics/{topic} shows it (with validateOnly: { name, partitions, validateOnly })'),
            '400': error('INVALID_REQUEST (bad body, or an internal topic) or INVALID_PARTITIONS (not above the current count, or over 10,000)'),
            '404': commonErrors['404'],
            '415': error('UNSUPPORTED_MEDIA_TYPE: the body must be application/json'),
          },
        },
      },
      '/v1/topics/{topic}/messages': {
        parameters: [topicParam],
        post: {
          operationId: 'produce',
          summary: 'Produce messages',
          description: 'JSON: any number of messages, grouped into one record batch per partition. A raw application/octet-stream body is one message whose value is the body.',
          parameters: [
            queryParam('acks', { type: 'string', enum: ['0', '1'], default: '1' }, '1: answer once stored (fdatasynced with flush.mode=sync); 0: answer 202 once handed to the owner'),
            queryParam('key', { type: 'string' }, 'Raw bodies only: the message key'),
            queryParam('partition', { type: 'integer', minimum: 0 }, 'Raw bodies only: the partition'),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('ProduceRequest') },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            '200': json(ref('ProduceResponse'), 'Stored; offsets in request order'),
            '202': json(ref('ProduceResponse'), 'acks=0: handed to the partition owners; offsets are null'),
            ...commonErrors,
            '413': error(`REQUEST_BODY_TOO_LARGE (over http.max.body.bytes = ${config.httpMaxBodyBytes}) or MESSAGE_TOO_LARGE (a batch over the topic's max.message.bytes)`),
            '415': error('UNSUPPORTED_MEDIA_TYPE: the body must be application/json or application/octet-stream'),
          },
        },
      },
      '/v1/topics/{topic}/partitions/{partition}/messages': {
        parameters: [topicParam, partitionParam],
        get: {
          operationId: 'fetch',
          summary: 'Fetch messages from an offset, optionally waiting for them (long poll)',
          parameters: [
            queryParam('offset', { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', enum: ['earliest', 'latest'] }], default: 'earliest' }, 'First offset wanted'),
            queryParam('maxMessages', { type: 'integer', minimum: 1, maximum: 10_000, default: 100 }, 'At most this many messages'),
            queryParam('maxBytes', { type: 'integer', minimum: 1, maximum: config.maxFrameBytes, default: Math.min(1 << 20, config.maxFrameBytes) }, 'Soft limit of record bytes read (the first batch always comes whole)'),
            queryParam('waitMs', { type: 'integer', minimum: 0, maximum: config.httpMaxWaitMs, default: 0 }, 'Wait up to this long for a message at offset'),
            queryParam('encoding', { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' }, 'base64: keys, values and header values as base64'),
          ],
          responses: {
            '200': json(ref('FetchResponse'), 'Messages (possibly none, after waitMs)'),
            ...commonErrors,
            '416': error('OFFSET_OUT_OF_RANGE: details carry logStartOffset and highWatermark'),
            '429': error(`TOO_MANY_LONG_POLLS: http.max.long.polls (${config.httpMaxLongPolls}) fetches are waiting already`),
          },
        },
      },
      '/v1/topics/{topic}/partitions/{partition}/offsets': {
        parameters: [topicParam, partitionParam],
        get: {
          operationId: 'listOffsets',
          summary: 'Earliest and latest offsets, and the offset for a time',
          parameters: [queryParam('timestamp', { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', enum: ['earliest', 'latest'] }] }, 'earliest, latest, or ms since the epoch: the first offset whose timestamp is at or after it')],
          responses: { '200': json(ref('Offsets'), 'The offsets'), ...commonErrors },
        },
      },
      ...groupPaths(config),
      '/healthz': { get: { operationId: 'healthz', summary: 'The process is up', responses: { '200': json({ type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } }, 'Up') } } },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Every partition is open and recovered',
          responses: { '200': json({ type: 'object', properties: { status: { type: 'string', enum: ['ready'] } } }, 'Ready'), '503': error('LEADER_NOT_AVAILABLE: partitions are being opened or recovered') },
        },
      },
      '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus metrics', responses: { '200': { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document', responses: { '200': json({ type: 'object' }, 'OpenAPI 3 document') } } },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'code', 'message'],
          properties: {
            error: { type: 'string', enum: errorTypes, description: 'Stable error name' },
            code: { type: 'integer', description: 'Stable wire code, the same as the binary protocol\'s' },
            message: { type: 'string' },
            details: { type: 'object', additionalProperties: true },
            offsets: { type: 'array', items: ref('ProducedOffset'), description: 'Produce to several partitions that failed for some: which messages were stored' },
          },
        },
        NewTopic: {
          type: 'object',
          required: ['name'],
          properties: {
            name: str('1-249 characters of [a-zA-Z0-9._-]'),
            partitions: int(`Default: num.partitions (${config.defaultPartitions})`, { minimum: 1 }),
            replicationFactor: int('Must be 1 on a single node', { minimum: 1 }),
            config: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }] }, description: 'Topic settings, e.g. retention.ms, segment.bytes, flush.mode' },
          },
        },
        ListedTopic: { type: 'object', properties: { name: { type: 'string' }, partitions: { type: 'integer' }, internal: { type: 'boolean' } } },
        Topic: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            topicId: { type: 'string', description: 'Differs between a topic and an earlier one of the same name; absent for topics from before topic ids' },
            internal: { type: 'boolean' },
            config: { type: 'object', additionalProperties: { type: 'string' }, description: 'Effective settings' },
            partitions: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  partition: { type: 'integer' },
                  leader: { type: 'integer' },
                  logStartOffset: { type: 'integer' },
                  logEndOffset: { type: 'integer' },
                  highWatermark: { type: 'integer' },
                  sizeBytes: { type: 'integer' },
                },
              },
            },
          },
        },
        Header: { type: 'object', required: ['key'], properties: { key: { type: 'string' }, value: { type: 'string', nullable: true }, valueBase64: { type: 'string' } } },
        ProduceMessage: {
          type: 'object',
          description: 'Exactly one of value and valueBase64',
          properties: {
            key: { type: 'string', nullable: true },
            keyBase64: { type: 'string', format: 'byte' },
            value: { description: 'A string (stored as UTF-8) or any JSON value (stored as its JSON text)' },
            valueBase64: { type: 'string', format: 'byte' },
            headers: { oneOf: [{ type: 'object', additionalProperties: { type: 'string', nullable: true } }, { type: 'array', items: ref('Header') }] },
            partition: { type: 'integer', minimum: 0, description: 'Default: by key (murmur2), else one partition for the keyless messages of all requests arriving together, rotating' },
          },
        },
        ProduceRequest: { type: 'object', required: ['messages'], properties: { messages: { type: 'array', minItems: 1, items: ref('ProduceMessage') } } },
        ProducedOffset: {
          type: 'object',
          properties: { partition: { type: 'integer' }, offset: { type: 'integer', nullable: true }, error: { type: 'string' }, message: { type: 'string' } },
        },
        ProduceResponse: { type: 'object', properties: { offsets: { type: 'array', items: ref('ProducedOffset') } } },
        FetchedMessage: {
          type: 'object',
          properties: {
            offset: { type: 'integer' },
            timestamp: { type: 'integer', description: 'ms since the epoch' },
            key: { type: 'string', nullable: true },
            keyBase64: { type: 'string', description: 'utf8 encoding: instead of key when the key is not UTF-8' },
            value: { type: 'string', nullable: true },
            valueBase64: { type: 'string', description: 'utf8 encoding: instead of value when the value is not UTF-8' },
            headers: { type: 'array', items: ref('Header') },
          },
        },
        FetchResponse: {
          type: 'object',
          properties: {
            messages: { type: 'array', items: ref('FetchedMessage') },
            nextOffset: { type: 'integer', description: 'Where the next fetch starts' },
            highWatermark: { type: 'integer', description: 'The offset the next message will get' },
            logStartOffset: { type: 'integer' },
          },
        },
        Offsets: {
          type: 'object',
          properties: {
            topic: { type: 'string' },
            partition: { type: 'integer' },
            earliest: { type: 'integer' },
            latest: { type: 'integer' },
            offset: { type: 'integer', description: 'With ?timestamp: the answer (latest when no message is that recent)' },
            timestamp: { type: 'integer', nullable: true, description: 'The timestamp of that message; null for earliest/latest or none' },
          },
        },
      },
    },
  };
}
