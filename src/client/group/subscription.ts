// What a group consumer subscribes to: a list of topics, or a pattern matched against the
// cluster's topic names. Application thread.
//
// A pattern is re-resolved every metadataRefreshMs (ListTopics: names only, internal topics never
// match), so a topic created later joins the subscription, and one deleted leaves it; either
// changes the member's JoinGroup subscription, which makes the coordinator rebalance.

import { Errors, RillError } from '../../errors.js';
import { ApiKeys } from '../../protocol/index.js';
import { type Cluster } from '../cluster.js';

export interface SubscribeOptions {
  /** Topics to consume. */
  topics?: string[];
  /** One topic (kafkajs's `topic`). */
  topic?: string;
  /** A pattern matched against topic names (internal topics excluded). */
  pattern?: RegExp;
  /** Partitions without a committed offset start at the earliest message (autoOffsetReset 'earliest'). */
  fromBeginning?: boolean;
}

export class Subscription {
  private readonly explicit = new Set<string>();
  private readonly patterns: RegExp[] = [];
  private matched: string[] = [];

  get isEmpty(): boolean {
    return this.explicit.size === 0 && this.patterns.length === 0;
  }

  get hasPattern(): boolean {
    return this.patterns.length > 0;
  }

  /** Adds to the subscription (kafkajs's subscribe() adds; it does not replace). */
  add(options: SubscribeOptions): void {
    if (options === null || typeof options !== 'object') throw new RillError(Errors.INVALID_REQUEST, 'subscribe() needs { topics } or { pattern }');
    const topics = options.topics ?? (options.topic === undefined ? [] : [options.topic]);
    if (!Array.isArray(topics)) throw new RillError(Errors.INVALID_REQUEST, 'subscribe({ topics }) needs an array of topic names');
    if (topics.length === 0 && options.pattern === undefined) throw new RillError(Errors.INVALID_REQUEST, 'subscribe() needs { topics: [...] } or { pattern: /.../ }');
    for (const topic of topics) {
      if (typeof topic !== 'string' || topic === '') throw new RillError(Errors.INVALID_TOPIC_EXCEPTION, `subscribe(): topic names must be non-empty strings, got ${JSON.stringify(topic)}`);
    }
    if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) throw new RillError(Errors.INVALID_REQUEST, 'subscribe({ pattern }) needs a RegExp');
    for (const topic of topics) this.explicit.add(topic);
    if (options.pattern !== undefined) this.patterns.push(options.pattern);
  }

  /** The topics subscribed to now, sorted. */
  topics(): string[] {
    return [...new Set([...this.explicit, ...this.matched])].sort();
  }

  /** Re-matches the patterns against the cluster's topics; resolves whether the topic set changed. */
  async refresh(cluster: Cluster): Promise<boolean> {
    if (this.patterns.length === 0) return false;
    const connection = await cluster.anyConnection();
    const { header } = await connection.request(ApiKeys.ListTopics, { includeInternal: false });
    const before = this.topics().join('\u0000');
    this.matched = header.topics
      .filter((t) => !t.internal)
      .map((t) => t.name)
      .filter((name) => this.patterns.some((p) => {
        p.lastIndex = 0;
        return p.test(name);
      }));
    return this.topics().join('\u0000') !== before;
  }
}
