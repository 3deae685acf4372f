// `rill produce TOPIC`: messages from stdin, a file, the command line, or generated as load.
// Main thread.
//
// Input modes (one per run):
//   lines    stdin (default) or --file F: one message per line, like kafka-console-producer;
//            --key-separator SEP splits each line into key and value at the first SEP (its
//            parse.key=true); --key K gives every line the same key.
//   single   --value V [--key K]: one message.
//   load     --count N [--size B]: N generated messages of B bytes, with a progress bar and live
//            msgs/s on stderr when stderr is a terminal, and a summary line at the end either way.
//
// Contract: every line becomes a message (batch-sender.ts bounds what is in flight), and the exit
// code is 0 only when the broker acknowledged every one (with --acks 0, when every one was sent).
// On the first failure it stops, says how many were acknowledged, and exits 1.

import { open } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { Command, Option } from 'commander';
import { Errors, RillError, errorSpecByCode } from '../errors.js';
import type { CliClient, CliProducer, ClientFactory } from './cli-client.js';
import { addClientOptions, clientOptions, type ClientOptions } from './client-options.js';
import { clientConfig, connectWithin, letGo, topicPartitions } from './broker-session.js';
import { BatchSender, type OutgoingMessage } from './batch-sender.js';
import { withDeadline } from './deadline.js';
import { action, describeError, EXIT_USAGE } from './fail.js';
import { readLineBatches } from './line-reader.js';
import { LoadProgress } from './load-progress.js';
import { checkTopicName, parseKeyValue, parsePartition, parsePositiveInt, parseSeparator } from './option-parsers.js';

export const DEFAULT_LOAD_MESSAGE_BYTES = 100;

export interface ProduceSettings {
  topic: string;
  partition?: number;
  headers?: Record<string, string>;
  acks: 0 | 1;
  idempotent: boolean;
  /** The key of every message (lines and single modes). */
  key?: Buffer;
  /** Lines mode: split each line into key and value at this separator. */
  keySeparator?: string;
}

export type ProduceInput =
  | { mode: 'lines'; input: AsyncIterable<Buffer | string> }
  | { mode: 'single'; value: Buffer }
  | { mode: 'load'; count: number; size: number };

interface ProduceFlags {
  key?: string;
  value?: string;
  file?: string;
  keySeparator?: string;
  partition?: number;
  header?: Record<string, string>;
  acks: string;
  idempotent?: boolean;
  count?: number;
  size?: number;
}

export function produceCommand(connect: ClientFactory): Command {
  const command = new Command('produce')
    .description('send messages to a topic: lines from stdin or a file, one message, or generated load')
    .argument('<topic>', 'the topic to send to')
    .option('-k, --key <key>', 'the key of every message')
    .addOption(new Option('--value <value>', 'send this one message instead of reading lines').conflicts(['file', 'count', 'keySeparator']))
    .addOption(new Option('-f, --file <path>', 'read lines from this file instead of stdin').conflicts(['count']))
    .addOption(new Option('--key-separator <sep>', 'split each line into key and value at the first <sep> ("\\t" for a tab)').argParser(parseSeparator).conflicts(['key', 'count']))
    .addOption(new Option('-p, --partition <n>', 'send to this partition (default: by key, else spread)').argParser(parsePartition))
    .addOption(new Option('-H, --header <key=value>', 'a header on every message; repeat for more').argParser(parseKeyValue))
    .addOption(new Option('--acks <acks>', 'acknowledgement: 0 = none, 1 = the leader stored it').choices(['0', '1']).default('1'))
    .option('--idempotent', 'idempotent producer: retries cannot duplicate or reorder messages')
    .addOption(new Option('-n, --count <n>', 'load mode: send <n> generated messages').argParser(parsePositiveInt))
    .addOption(new Option('-s, --size <bytes>', `load mode: bytes per generated message (default: ${DEFAULT_LOAD_MESSAGE_BYTES})`).argParser(parsePositiveInt));
  addClientOptions(command, 'give up when the broker does not answer (connecting, or acknowledging a batch) within this many milliseconds');
  command.addHelpText(
    'after',
    `
Exits 0 only when every message was acknowledged (with --acks 0: sent).

Examples:
  $ echo hello | rill produce orders
  $ rill produce orders < messages.txt
  $ printf 'user-1\\t{"item":42}\\n' | rill produce orders --key-separator '\\t'
  $ rill produce orders --key user-1 --value '{"item":42}' --header source=cli
  $ rill produce orders --file messages.txt --partition 2 --idempotent
  $ rill produce orders --count 100000 --size 1024`,
  );
  command.action(
    action(async (topic: string, flags: ProduceFlags) => {
      const settings = produceSettings(command, topic, flags);
      const input = await produceInput(command, flags);
      const client = connect(clientConfig(clientOptions(command)));
      await produce(client, settings, input, clientOptions(command));
    }),
  );
  return command;
}

function produceSettings(command: Command, topic: string, flags: ProduceFlags): ProduceSettings {
  const acks = flags.acks === '0' ? 0 : 1;
  if (flags.idempotent && acks === 0) command.error("error: option '--idempotent' needs --acks 1: it relies on the broker's acknowledgements", { exitCode: EXIT_USAGE });
  checkTopicName(topic);
  return {
    topic,
    partition: flags.partition,
    headers: flags.header,
    acks,
    idempotent: flags.idempotent === true,
    key: flags.key === undefined ? undefined : Buffer.from(flags.key),
    keySeparator: flags.keySeparator,
  };
}

async function produceInput(command: Command, flags: ProduceFlags): Promise<ProduceInput> {
  if (flags.size !== undefined && flags.count === undefined) command.error("error: option '--size <bytes>' goes with --count <n>", { exitCode: EXIT_USAGE });
  if (flags.count !== undefined) return { mode: 'load', count: flags.count, size: flags.size ?? DEFAULT_LOAD_MESSAGE_BYTES };
  if (flags.value !== undefined) return { mode: 'single', value: Buffer.from(flags.value) };
  // Opened now, before connecting: a wrong path fails first, as ENOENT, and the stream has no open
  // error to raise later, before anything listens to it.
  if (flags.file !== undefined) return { mode: 'lines', input: (await open(flags.file)).createReadStream() };
  if (process.stdin.isTTY) process.stderr.write('Type messages, one per line; end with Ctrl-D.\n');
  return { mode: 'lines', input: process.stdin };
}

/** Sends `input` to `settings.topic`; throws (with the acknowledged count in the message) on failure. */
export async function produce(client: CliClient, settings: ProduceSettings, input: ProduceInput, options: ClientOptions, stderr: NodeJS.WritableStream = process.stderr): Promise<void> {
  const admin = client.admin();
  const producer = client.producer({ idempotent: settings.idempotent, acks: settings.acks });
  let progress: LoadProgress | undefined;
  const sender = new BatchSender((messages) => sendBatch(producer, settings, messages, options.timeoutMs), {
    onAcknowledged: (count, bytes) => progress?.acknowledged(count, bytes),
  });
  try {
    await connectWithin(admin, options);
    await topicPartitions(admin, settings.topic, options, settings.partition);
    await connectWithin(producer, options);
    if (input.mode === 'load') progress = new LoadProgress({ total: input.count, stream: stderr });
    try {
      await feed(sender, settings, input);
    } catch (error) {
      // Let the sends already out settle, so the count reported is final; report this error.
      await sender.close().catch(() => undefined);
      throw error;
    }
    await sender.close();
  } catch (error) {
    throw sender.sent === 0 ? error : new ProduceFailure(error, sender.acknowledged, sender.sent);
  } finally {
    // The summary is shown on failure too: how far a load run got is worth knowing.
    progress?.finish();
    await letGo(client, producer, admin);
  }
}

async function feed(sender: BatchSender, settings: ProduceSettings, input: ProduceInput): Promise<void> {
  if (input.mode === 'single') {
    await sender.add(messageOf(settings, settings.key, input.value));
  } else if (input.mode === 'load') {
    // One payload for all: the client copies it into each batch, and generating bytes is not
    // what a load test should measure. Random letters, like kafka-producer-perf-test's.
    const payload = randomLetters(input.size);
    for (let i = 0; i < input.count; i++) await sender.add(messageOf(settings, settings.key, payload));
  } else {
    let lineNumber = 0;
    for await (const lines of readLineBatches(input.input)) {
      for (const line of lines) {
        lineNumber++;
        await sender.add(lineMessage(settings, line, lineNumber));
      }
      // What one read brought goes out now: a person typing sees each line sent as they press Enter.
      await sender.flush();
    }
  }
}

/** The message for one input line (1-based `lineNumber`, for the error message). */
export function lineMessage(settings: ProduceSettings, line: Buffer, lineNumber: number): OutgoingMessage {
  if (settings.keySeparator === undefined) return messageOf(settings, settings.key, line);
  const at = line.indexOf(settings.keySeparator);
  if (at === -1) {
    throw new RillError(Errors.INVALID_RECORD, `line ${lineNumber} has no key separator ${JSON.stringify(settings.keySeparator)}`, { line: lineNumber });
  }
  return messageOf(settings, line.subarray(0, at), line.subarray(at + Buffer.byteLength(settings.keySeparator)));
}

function messageOf(settings: ProduceSettings, key: Buffer | undefined, value: Buffer): OutgoingMessage {
  const message: OutgoingMessage = { value };
  if (key !== undefined) message.key = key;
  if (settings.headers !== undefined) message.headers = settings.headers;
  if (settings.partition !== undefined) message.partition = settings.partition;
  return message;
}

async function sendBatch(producer: CliProducer, settings: ProduceSettings, messages: OutgoingMessage[], timeoutMs: number): Promise<void> {
  const results = await withDeadline(
    producer.send({ topic: settings.topic, messages, acks: settings.acks }),
    timeoutMs,
    `${messages.length === 1 ? 'the message was' : `${messages.length} messages were`} not acknowledged`,
  );
  // Should the client report a partition's error in its result rather than throw it, throw it here.
  if (Array.isArray(results)) {
    for (const result of results as { errorCode?: number; partition?: number }[]) {
      if (result.errorCode !== undefined && result.errorCode !== 0) {
        const spec = errorSpecByCode(result.errorCode);
        throw new RillError(spec, `${spec.message} (partition ${result.partition})`);
      }
    }
  }
}

function randomLetters(size: number): Buffer {
  const bytes = randomFillSync(Buffer.alloc(size));
  for (let i = 0; i < size; i++) bytes[i] = 0x41 + (bytes[i] % 26);
  return bytes;
}

/** A failed run: the cause, and how far it got. */
export class ProduceFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly acknowledged: number,
    readonly sent: number,
  ) {
    // No `cause`: describeError(reason) already says it, with its own cause.
    super(`${describeError(reason)} (${acknowledged} of ${sent} ${sent === 1 ? 'message' : 'messages'} acknowledged)`);
    this.name = 'ProduceFailure';
  }
}
