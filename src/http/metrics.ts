// The broker's Prometheus metrics (GET /metrics), on prom-client. Main thread.
//
// Counted as they happen, on the main thread: HTTP requests and their latency by api and status,
// messages and bytes in and out per topic. The counts are plain numbers here, handed to
// prom-client's counters when scraped (collect()): a prom-client inc() validates and hashes its
// labels on every call, even through a labels() child, which was ~2% of a single-message
// produce's main-thread time for the three counters it touches. Read when scraped: ring occupancy
// and backpressure per worker (from the main thread's ends of the rings, no cross-thread call),
// and what only the owners know (open partitions, segments, log bytes, fdatasync count and time)
// from one `stats` control task per worker per scrape, never per request. Process RSS, CPU, heap
// and event-loop lag come from prom-client's default collectors.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type SlotFigures } from '../broker/owner-router.js';

/** A worker's request ring and load, as the owner router sees them. */
export type RingFigures = SlotFigures;

export interface WorkerFigures {
  worker: number;
  partitions: number;
  segments: number;
  logBytes: number;
  flushes: number;
  flushSeconds: number;
  /** Partitions the worker leads whose ISR is smaller than their replica set (replication). */
  underReplicated?: number;
}

export interface MetricsSources {
  rings(): RingFigures[];
  /** One stats task per worker; a worker that fails to answer is left out. */
  workers(): Promise<WorkerFigures[]>;
  longPollsWaiting(): number;
  /** HTTP group members on this node. */
  groupMembers(): number;
}

/** Request latency buckets, seconds: sub-millisecond produce up to minute-long polls. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface RequestSeries {
  labels: { api: string; status: string };
  count: number;
  latency: Histogram.Internal<'api' | 'status'>;
}

interface TopicCounts {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

export class BrokerMetrics {
  readonly registry = new Registry();
  private readonly sources: MetricsSources;
  private readonly latency: Histogram<'api' | 'status'>;
  private readonly series = new Map<string, RequestSeries>();
  private readonly topics = new Map<string, TopicCounts>();
  private readonly partitions: Gauge<'worker'>;
  private readonly segments: Gauge<'worker'>;
  private readonly logBytes: Gauge<'worker'>;
  private readonly flushes: Counter<'worker'>;
  private readonly flushSeconds: Counter<'worker'>;
  private readonly underReplicated: Gauge<'worker'>;

  constructor(sources: MetricsSources) {
    this.sources = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const series = this.series;
    new Counter({
      name: 'rill_http_requests_total',
      help: 'HTTP requests answered, by api and status',
      labelNames: ['api', 'status'],
      registers,
      collect() {
        this.reset();
        for (const s of series.values()) this.inc(s.labels, s.count);
      },
    });
    this.latency = new Histogram({ name: 'rill_http_request_duration_seconds', help: 'HTTP request latency from the request to the end of the answer, by api and status', labelNames: ['api', 'status'], buckets: LATENCY_BUCKETS, registers });
    const topics = this.topics;
    const perTopic = (name: string, help: string, pick: (t: TopicCounts) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          this.reset();
          for (const [topic, counts] of topics) this.inc({ topic }, pick(counts));
        },
      });
    perTopic('rill_messages_in_total', 'Messages acknowledged by the log (acks=1) or handed to it (acks=0), by topic', (t) => t.messagesIn);
    perTopic('rill_bytes_in_total', 'Record batch bytes produced, by topic', (t) => t.bytesIn);
    perTopic('rill_messages_out_total', 'Messages fetched, by topic', (t) => t.messagesOut);
    perTopic('rill_bytes_out_total', 'Record batch bytes fetched, by topic', (t) => t.bytesOut);
    new Gauge({ name: 'rill_http_long_polls_waiting', help: 'HTTP fetches waiting for data now', registers, collect() { this.set(sources.longPollsWaiting()); } });
    new Gauge({ name: 'rill_http_group_members', help: 'HTTP group members on this node', registers, collect() { this.set(sources.groupMembers()); } });
    const rings = (name: string, help: string, pick: (r: RingFigures) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          for (const r of sources.rings()) this.set({ worker: String(r.worker) }, pick(r));
        },
      });
    rings('rill_worker_up', 'Whether the worker owns its partitions and takes requests (0 while a replacement recovers them)', (r) => (r.up ? 1 : 0));
    rings('rill_ring_request_used_bytes', 'Bytes in use in the worker\'s request ring', (r) => r.usedBytes);
    rings('rill_ring_request_capacity_bytes', 'Capacity of the worker\'s request ring', (r) => r.capacity);
    rings('rill_worker_requests_in_flight', 'Requests awaiting the worker\'s answer', (r) => r.inFlight);
    new Counter({
      name: 'rill_ring_backpressure_events_total',
      help: 'Times a request found the worker\'s ring full (or its in-flight cap reached) and its sender had to wait',
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const r of sources.rings()) this.inc({ worker: String(r.worker) }, r.backpressure);
      },
    });
    this.partitions = new Gauge({ name: 'rill_open_partitions', help: 'Partitions open on the worker', labelNames: ['worker'], registers });
    this.segments = new Gauge({ name: 'rill_open_segments', help: 'Segments of the worker\'s open partitions', labelNames: ['worker'], registers });
    this.logBytes = new Gauge({ name: 'rill_log_bytes', help: 'Bytes held by the worker\'s partition logs', labelNames: ['worker'], registers });
    this.flushes = new Counter({ name: 'rill_log_flushes_total', help: 'fdatasync rounds of the worker\'s logs', labelNames: ['worker'], registers });
    this.underReplicated = new Gauge({ name: 'rill_under_replicated_partitions', help: 'Partitions led by the worker whose in-sync replica set is smaller than their replica set', labelNames: ['worker'], registers });
    this.flushSeconds = new Counter({ name: 'rill_log_flush_seconds_total', help: 'Seconds spent in fdatasync rounds; rate over rill_log_flushes_total is the mean flush latency', labelNames: ['worker'], registers });
  }

  /** One answered HTTP request. */
  observe(api: string, status: number, seconds: number): void {
    const key = `${api} ${status}`;
    let series = this.series.get(key);
    if (series === undefined) {
      const labels = { api, status: String(status) };
      series = { labels, count: 0, latency: this.latency.labels(labels) };
      this.series.set(key, series);
    }
    series.count++;
    series.latency.observe(seconds);
  }

  produced(topic: string, messages: number, bytes: number): void {
    const counts = this.countsOf(topic);
    counts.messagesIn += messages;
    counts.bytesIn += bytes;
  }

  fetched(topic: string, messages: number, bytes: number): void {
    const counts = this.countsOf(topic);
    counts.messagesOut += messages;
    counts.bytesOut += bytes;
  }

  /** A topic was deleted: its series go, so that a busy broker's label set stays bounded. */
  forgetTopic(topic: string): void {
    this.topics.delete(topic);
  }

  private countsOf(topic: string): TopicCounts {
    let counts = this.topics.get(topic);
    if (counts === undefined) this.topics.set(topic, (counts = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 }));
    return counts;
  }

  /** The exposition text, with the owners' figures fetched for this scrape. */
  async render(): Promise<{ text: string; contentType: string }> {
    const workers = await this.sources.workers();
    for (const metric of [this.partitions, this.segments, this.logBytes, this.underReplicated]) metric.reset();
    this.flushes.reset();
    this.flushSeconds.reset();
    for (const w of workers) {
      const worker = { worker: String(w.worker) };
      this.partitions.set(worker, w.partitions);
      this.segments.set(worker, w.segments);
      this.logBytes.set(worker, w.logBytes);
      this.underReplicated.set(worker, w.underReplicated ?? 0);
      this.flushes.inc(worker, w.flushes);
      this.flushSeconds.inc(worker, w.flushSeconds);
    }
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
