// `rill consume TOPIC`: prints a topic's messages, one per line. Main thread.
//
// Where it starts: the end of each partition (as kafka-console-consumer does), or --from-beginning,
// or --offset earliest|latest|N. Where it stops: by default at the end offsets the partitions had
// when it started ("caught up", as kcat -e), or never with --follow, or after --max messages,
// whichever comes first. --partition reads one partition, otherwise all of them.
//
// Waiting: without --follow, --timeout-ms (default 10 s) bounds every wait, and no message for
// that long while some are still expected is an error (REQUEST_TIMED_OUT), never a silent short
// read. With --follow it waits for new messages for ever, or, when --timeout-ms is given, ends
// quietly after that long with no message (kafka-console-consumer's --timeout-ms). Ctrl-C ends a
// run cleanly. Either way the last line on stderr is "Processed a total of N messages"
// (--quiet drops it).
//
// Output goes through OutputSink: when the reader goes away (`| head`), the run ends with exit 0.

import { Command, Option } from 'commander';
import { Errors, RillError } from '../errors.js';
import type { CliClient, CliConsumer, CliFetchedBatch, ClientFactory } from './cli-client.js';
import { withDeadline } from './deadline.js';
import { addClientOptions, clientOptions, type ClientOptions } from './client-options.js';
import { clientConfig, connectWithin, letGo, topicPartitions } from './broker-session.js';
import { action } from './fail.js';
import { formatMessage, MESSAGE_FORMATS, type MessageFormat } from './message-format.js';
import { checkTopicName, parsePartition, parsePositiveInt, parseStartOffset, type StartOffset } from './option-parsers.js';
import { OutputSink } from './output-sink.js';

export interface ConsumeSettings {
  topic: string;
  /** One partition, or all when absent. */
  partition?: number;
  start: StartOffset;
  follow: boolean;
  max?: number;
  format: MessageFormat;
  /** Without follow: the longest wait for an expected message. With follow: the idle limit, if any. */
  timeoutMs: number | undefined;
}

interface ConsumeFlags {
  fromBeginning?: boolean;
  offset?: StartOffset;
  partition?: number;
  follow?: boolean;
  max?: number;
  format: MessageFormat;
  quiet?: boolean;
}

/** How long one fetch may wait at the broker for data: short enough to notice a stop promptly. */
const MAX_WAIT_MS = 500;

export function consumeCommand(connect: ClientFactory): Command {
  const command = new Command('consume')
    .description('print messages from a topic, one per line')
    .argument('<topic>', 'the topic to read')
    .addOption(new Option('--from-beginning', 'start at the first message of each partition').conflicts('offset'))
    .addOption(new Option('-o, --offset <offset>', "start at 'earliest', 'latest' or offset N (default: latest)").argParser(parseStartOffset))
    .addOption(new Option('-p, --partition <n>', 'read this partition only (default: all)').argParser(parsePartition))
    .option('-f, --follow', 'keep waiting for new messages (default: stop at the end offsets seen at start)')
    .addOption(new Option('-m, --max <n>', 'stop after <n> messages').argParser(parsePositiveInt))
    .addOption(new Option('--format <format>', 'value: the value as a line; json: JSON lines with topic, partition, offset, timestamp, key, headers, value').choices(MESSAGE_FORMATS).default('value'))
    .option('-q, --quiet', 'do not print "Processed a total of N messages" on stderr');
  addClientOptions(command, 'how long to wait for the broker and for messages; with --follow, end after this long without a message (default there: wait for ever)');
  command.addHelpText(
    'after',
    `
Examples:
  $ rill consume orders --from-beginning
  $ rill consume orders --from-beginning --max 10 --format json | jq .value
  $ rill consume orders --partition 2 --offset 1500 --max 100
  $ rill consume orders --follow
  $ rill consume orders --from-beginning | head -5`,
  );
  command.action(
    action(async (topic: string, flags: ConsumeFlags) => {
      const options = clientOptions(command);
      checkTopicName(topic, { allowInternal: true });
      const follow = flags.follow === true;
      const settings: ConsumeSettings = {
        topic,
        partition: flags.partition,
        start: flags.fromBeginning ? 'earliest' : (flags.offset ?? 'latest'),
        follow,
        max: flags.max,
        format: flags.format,
        timeoutMs: follow && !options.timeoutGiven ? undefined : options.timeoutMs,
      };
      const sink = new OutputSink(process.stdout);
      const stop = stopOnSignals();
      let count = 0;
      try {
        count = await consume(connect(clientConfig(options)), settings, options, sink, stop.signal);
      } finally {
        stop.release();
      }
      if (!flags.quiet) process.stderr.write(`Processed a total of ${count} messages\n`);
      if (sink.error !== undefined) throw sink.error;
    }),
  );
  return command;
}

/** Ctrl-C and SIGTERM end the run cleanly (summary, exit 0) instead of killing it mid-line. */
function stopOnSignals(): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Where each partition starts and (without --follow) where it stops. */
export interface PartitionPlan {
  partition: number;
  start: number;
  /** The end offset at start: the run is caught up on this partition once it reaches it. */
  end: number;
}

/** Resolves the start offset of each partition read, and checks a numeric one against its range. */
export function planPartitions(
  topic: string,
  offsets: { partition: number; low: number; high: number }[],
  settings: Pick<ConsumeSettings, 'partition' | 'start'>,
): PartitionPlan[] {
  const chosen = offsets.filter((o) => settings.partition === undefined || o.partition === settings.partition);
  return chosen
    .map((o) => {
      const { low, high } = o;
      const start = settings.start === 'earliest' ? low : settings.start === 'latest' ? high : settings.start;
      if (start < low || start > high) {
        throw new RillError(Errors.OFFSET_OUT_OF_RANGE, `Offset ${start} is outside partition ${o.partition} of ${topic}, which holds ${low}..${high}`, {
          topic,
          partition: o.partition,
          offset: start,
        });
      }
      return { partition: o.partition, start, end: high };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Reads and prints; resolves with the number of messages printed. */
export async function consume(client: CliClient, settings: ConsumeSettings, options: ClientOptions, sink: OutputSink, stop?: AbortSignal): Promise<number> {
  const admin = client.admin();
  const consumer = client.consumer({ maxWaitMs: Math.min(MAX_WAIT_MS, options.timeoutMs) });
  try {
    await connectWithin(admin, options);
    // Describe first: it fails at once for an unknown topic or partition. ListOffsets then gives
    // the start and end offsets to plan with.
    await topicPartitions(admin, settings.topic, options, settings.partition);
    const offsets = await withDeadline(admin.fetchTopicOffsets(settings.topic), options.timeoutMs, `the broker did not answer for topic ${settings.topic}`);
    const plans = planPartitions(settings.topic, offsets, settings);
    const pending = new Map(plans.filter((p) => settings.follow || p.start < p.end).map((p) => [p.partition, p]));
    if (pending.size === 0) return 0;
    await connectWithin(consumer, options);
    await consumer.assign(plans.map((p) => ({ topic: settings.topic, partition: p.partition })));
    for (const plan of plans) await consumer.seek({ topic: settings.topic, partition: plan.partition, offset: plan.start });
    return await printBatches(consumer, settings, pending, sink, stop);
  } finally {
    await letGo(client, consumer, admin);
  }
}

async function printBatches(consumer: CliConsumer, settings: ConsumeSettings, pending: Map<number, PartitionPlan>, sink: OutputSink, stop?: AbortSignal): Promise<number> {
  const next = new Map([...pending.values()].map((p) => [p.partition, p.start]));
  const batches = consumer[Symbol.asyncIterator]();
  let count = 0;
  try {
    while (pending.size > 0 && !sink.closed && (settings.max === undefined || count < settings.max)) {
      const batch = await nextBatch(batches, settings, count, stop);
      if (batch === undefined) break;
      const chunks: Buffer[] = [];
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        const plan = pending.get(batch.partition);
        // Offsets below the position (the rest of a batch fetched from its start) and, without
        // --follow, offsets past the end seen at start, are not this run's to print.
        if (plan === undefined || offset < (next.get(batch.partition) ?? 0)) continue;
        if (!settings.follow && offset >= plan.end) {
          next.set(batch.partition, plan.end);
          break;
        }
        chunks.push(formatMessage(settings.format, { ...message, topic: batch.topic, partition: batch.partition, offset }));
        next.set(batch.partition, offset + 1);
        count++;
        if (settings.max !== undefined && count >= settings.max) break;
      }
      if (chunks.length > 0) await sink.write(Buffer.concat(chunks));
      const plan = pending.get(batch.partition);
      if (!settings.follow && plan !== undefined && (next.get(batch.partition) ?? 0) >= plan.end) pending.delete(batch.partition);
    }
  } finally {
    await consumer.stop();
  }
  return count;
}

/**
 * The next batch with messages; undefined when the run should end (stopped by a signal, or idle
 * for --timeout-ms with --follow). Without --follow, idle for --timeout-ms is an error.
 */
async function nextBatch(batches: AsyncIterator<CliFetchedBatch>, settings: ConsumeSettings, count: number, stop?: AbortSignal): Promise<CliFetchedBatch | undefined> {
  const idleSince = Date.now();
  for (;;) {
    const remaining = settings.timeoutMs === undefined ? undefined : settings.timeoutMs - (Date.now() - idleSince);
    const result = await raceStopAndTimer(batches.next(), remaining, stop);
    if (result === 'stopped') return undefined;
    if (result === 'idle') {
      if (settings.follow) return undefined;
      throw new RillError(Errors.REQUEST_TIMED_OUT, `No message arrived for ${settings.timeoutMs} ms with more expected (${count} printed)`, { printed: count });
    }
    if (result.done) return undefined;
    if (result.value.messages.length > 0) return result.value;
  }
}

async function raceStopAndTimer<T>(work: Promise<T>, ms: number | undefined, stop?: AbortSignal): Promise<T | 'idle' | 'stopped'> {
  // The race may be decided by the timer or the stop while `work` is still out; its later failure
  // (the consumer being stopped under it) is then nobody's business.
  work.catch(() => undefined);
  if (stop?.aborted) return 'stopped';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const racers: Promise<T | 'idle' | 'stopped'>[] = [work];
  if (ms !== undefined) racers.push(new Promise((resolve) => (timer = setTimeout(() => resolve('idle'), Math.max(0, ms)))));
  if (stop !== undefined) racers.push(new Promise((resolve) => stop.addEventListener('abort', (onAbort = () => resolve('stopped')), { once: true })));
  try {
    return await Promise.race(racers);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) stop?.removeEventListener('abort', onAbort);
  }
}
