// The flags every client command shares, --brokers and --timeout-ms, and the parsing of the broker
// list. Main thread.
//
// --brokers reads like Kafka's --bootstrap-server: a comma-separated host:port list, any member of
// which can answer for the cluster. RILL_BROKERS sets it for a whole shell session.

import { type Command, InvalidArgumentError, Option } from 'commander';
import { integerParser } from './option-parsers.js';

export const DEFAULT_BROKERS = '127.0.0.1:9400';
export const DEFAULT_PORT = 9400;
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ClientOptions {
  /** host:port strings, normalised (a missing port is DEFAULT_PORT). */
  brokers: string[];
  /** How long to wait for the broker before giving up. */
  timeoutMs: number;
  /** Whether the user set --timeout-ms (commands that wait for messages treat it as an idle limit). */
  timeoutGiven: boolean;
}

/**
 * Parses "host:port,host:port". A port may be left out (DEFAULT_PORT); an IPv6 host is written in
 * brackets, "[::1]:9400", as in URLs.
 */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (brokers.length === 0) throw new InvalidArgumentError('must name at least one broker as host:port.');
  return brokers.map(parseBroker);
}

function parseBroker(entry: string): string {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d+))?$/.exec(entry);
  if (match === null) throw new InvalidArgumentError(`'${entry}' is not host:port.`);
  const port = match[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (port < 1 || port > 65535) throw new InvalidArgumentError(`'${entry}' has a port outside 1..65535.`);
  return `${match[1]}:${port}`;
}

export const parseTimeoutMs = integerParser(1, 0x7fffffff);

/** Adds --brokers and --timeout-ms to `command`; `timeoutHelp` says what the timeout bounds there. */
export function addClientOptions(command: Command, timeoutHelp = 'give up when the broker does not answer within this many milliseconds'): Command {
  return command
    .addOption(
      new Option('-b, --brokers <host:port,...>', 'brokers to connect to, comma-separated').env('RILL_BROKERS').default(parseBrokers(DEFAULT_BROKERS), DEFAULT_BROKERS).argParser(parseBrokers),
    )
    .addOption(new Option('--timeout-ms <ms>', timeoutHelp).default(DEFAULT_TIMEOUT_MS).argParser(parseTimeoutMs));
}

/** The shared flags' values, as parsed on `command`. */
export function clientOptions(command: Command): ClientOptions {
  const options = command.opts<{ brokers: string[]; timeoutMs: number }>();
  return { brokers: options.brokers, timeoutMs: options.timeoutMs, timeoutGiven: command.getOptionValueSource('timeoutMs') === 'cli' };
}
