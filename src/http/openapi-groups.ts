// The OpenAPI 3 paths of the consumer-group endpoints (group-member-routes.ts, group-routes.ts),
// merged into openapi.ts's document. Any thread.

import { type BrokerConfig } from '../broker/config.js';

type Schema = Record<string, unknown>;

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);
const body = (schema: Schema, required = true) => ({ required, content: { 'application/json': { schema } } });
const queryParam = (name: string, schema: Schema, description: string) => ({ name, in: 'query', required: false, schema, description });
const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string' }, description });
const group = pathParam('group', 'Group id (1-255 characters)');
const member = pathParam('member', 'Member name, as POST .../members answered');
const noContent = { '204': { description: 'Done' } };
const unknownMember = error('UNKNOWN_GROUP_MEMBER: no such member on this node (deleted, expired, or created on another node)');
const notSubscribed = error('NOT_SUBSCRIBED: POST the member\'s /subscription first');
const tpo: Schema = { type: 'object', required: ['topic', 'partition', 'offset'], properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer', description: 'The next offset to consume' } } };
const tp: Schema = { type: 'object', properties: { topic: { type: 'string' }, partition: { type: 'integer' } } };

export function groupPaths(config: BrokerConfig): Record<string, Schema> {
  return {
    '/v1/groups': {
      get: {
        operationId: 'listGroups',
        summary: 'List consumer groups',
        parameters: [queryParam('state', { type: 'string' }, 'Comma-separated states: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead')],
        responses: { '200': json({ type: 'object', properties: { groups: { type: 'array', items: { type: 'object' } } } }, 'groupId, protocolType and state of each group') },
      },
    },
    '/v1/groups/{group}': {
      parameters: [group],
      get: { operationId: 'describeGroup', summary: 'State, members, assignments, committed offsets, log end offsets and lag', responses: { '200': json({ type: 'object' }, 'The group'), '404': error('GROUP_ID_NOT_FOUND') } },
      delete: { operationId: 'deleteGroup', summary: 'Delete an empty group and its committed offsets', responses: { ...noContent, '404': error('GROUP_ID_NOT_FOUND'), '409': error('NON_EMPTY_GROUP: the group has members') } },
    },
    '/v1/groups/{group}/members': {
      parameters: [group],
      post: {
        operationId: 'createGroupMember',
        summary: 'Create a member of the group on this node (it joins on its first poll)',
        requestBody: body(
          {
            type: 'object',
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$', description: 'Default: rill-http-<uuid>' },
              autoOffsetReset: { type: 'string', enum: ['earliest', 'latest'], default: 'latest' },
              autoCommit: { type: 'boolean', default: true, description: 'Commit what a poll returned once the next poll comes, on revocation and on delete' },
              sessionTimeoutMs: { type: 'integer', minimum: config.groupMinSessionTimeoutMs, maximum: config.groupMaxSessionTimeoutMs },
              assignor: { type: 'string', enum: ['range', 'round-robin', 'cooperative-sticky'], default: 'cooperative-sticky' },
            },
          },
          false,
        ),
        responses: {
          '201': json({ type: 'object', properties: { group: { type: 'string' }, name: { type: 'string' }, uri: { type: 'string' } } }, 'Created'),
          '400': error('INVALID_REQUEST, INVALID_GROUP_ID or INVALID_SESSION_TIMEOUT'),
          '409': error('GROUP_MEMBER_EXISTS'),
          '429': error(`TOO_MANY_GROUP_MEMBERS: http.max.group.members (${config.httpMaxGroupMembers}) members exist on this node`),
        },
      },
    },
    '/v1/groups/{group}/members/{member}': {
      parameters: [group, member],
      delete: { operationId: 'deleteGroupMember', summary: 'Commit (autoCommit) and leave the group', responses: { ...noContent, '404': unknownMember } },
    },
    '/v1/groups/{group}/members/{member}/subscription': {
      parameters: [group, member],
      post: {
        operationId: 'subscribeGroupMember',
        summary: 'Replace the member\'s subscription: topics, or a pattern matched against whole topic names',
        requestBody: body({ oneOf: [{ type: 'object', required: ['topics'], properties: { topics: { type: 'array', items: { type: 'string' } } } }, { type: 'object', required: ['pattern'], properties: { pattern: { type: 'string' } } }] }),
        responses: { ...noContent, '400': error('INVALID_REQUEST'), '404': unknownMember },
      },
      get: { operationId: 'groupMemberSubscription', summary: 'The subscription', responses: { '200': json({ type: 'object', properties: { topics: { type: 'array', items: { type: 'string' } }, pattern: { type: 'string', nullable: true } } }, 'The subscription'), '404': unknownMember } },
      delete: { operationId: 'unsubscribeGroupMember', summary: 'Drop the subscription (commits with autoCommit, leaves the group)', responses: { ...noContent, '404': unknownMember } },
    },
    '/v1/groups/{group}/members/{member}/messages': {
      parameters: [group, member],
      get: {
        operationId: 'pollGroupMember',
        summary: 'Messages from the member\'s partitions; with autoCommit, the previous poll\'s messages count as processed',
        parameters: [
          queryParam('maxMessages', { type: 'integer', minimum: 1, maximum: 10_000, default: 500 }, 'At most this many'),
          queryParam('waitMs', { type: 'integer', minimum: 0, maximum: config.httpMaxWaitMs, default: 0 }, 'Wait up to this long when none are ready'),
          queryParam('encoding', { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' }, 'base64: keys, values and header values as base64'),
        ],
        responses: {
          '200': json({ type: 'object', properties: { messages: { type: 'array', items: { type: 'object', description: 'topic, partition, offset, timestamp, key, value, headers' } } } }, 'Messages (possibly none)'),
          '404': unknownMember,
          '409': notSubscribed,
          '429': error('TOO_MANY_LONG_POLLS'),
        },
      },
    },
    '/v1/groups/{group}/members/{member}/offsets': {
      parameters: [group, member],
      post: {
        operationId: 'commitGroupMember',
        summary: 'Commit the given offsets, or with no body everything polled so far',
        requestBody: body({ type: 'object', properties: { offsets: { type: 'array', items: tpo } } }, false),
        responses: { '200': json({ type: 'object', properties: { offsets: { type: 'array', items: tpo } } }, 'Committed'), '404': unknownMember, '409': error('NOT_SUBSCRIBED, PARTITION_NOT_ASSIGNED or REBALANCE_IN_PROGRESS') },
      },
      get: { operationId: 'groupMemberCommitted', summary: 'Committed offsets, log end offsets and lag of the member\'s partitions', responses: { '200': json({ type: 'object', properties: { offsets: { type: 'array', items: { type: 'object' } } } }, 'Offsets'), '404': unknownMember, '409': notSubscribed } },
    },
    '/v1/groups/{group}/members/{member}/assignment': {
      parameters: [group, member],
      get: { operationId: 'groupMemberAssignment', summary: 'The partitions assigned to the member now', responses: { '200': json({ type: 'object', properties: { partitions: { type: 'array', items: tp } } }, 'The assignment'), '404': unknownMember } },
    },
  };
}
