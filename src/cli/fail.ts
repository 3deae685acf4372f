// How a `rill` command fails: ONE line on stderr, `rill: error: <CODE>: <message>`, and a non-zero
// exit, never a stack trace. Main thread.
//
// People run these commands in shells and scripts, as they run kafka-topics.sh or rabbitmqadmin: a
// stack trace tells them nothing they can act on, and a multi-line error breaks `2>&1 | tail -1`.
// The code is the error table's name (UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, ...) or a
// system error's (ECONNREFUSED), so a script can match on it. RILL_DEBUG=1 adds the stack, for us.
//
// Exit codes: 2 for a command line commander could not parse (unknown flag, bad flag value), 1 for
// everything else (bad input found later, broker errors, an unreachable broker).

import { type Command, CommanderError } from 'commander';
import { RillError } from '../errors.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The one line that describes `error`, without the `rill: error: ` prefix. */
export function describeError(error: unknown): string {
  let text: string;
  if (error instanceof RillError) {
    text = `${error.type}: ${error.message}`;
  } else if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    // net.connect's AggregateError (one attempt per address family) has an empty message.
    const message = error.message || (error instanceof AggregateError ? error.errors.map((e) => String(e?.message ?? e)).join('; ') : '') || error.name;
    text = typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message;
  } else {
    text = String(error);
  }
  const cause = causeOf(error);
  if (cause !== undefined && !text.includes(cause)) text += ` (${cause})`;
  return oneLine(text);
}

/** Collapses any line breaks, so the error stays one line whatever a message holds. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** Prints the error line (and with RILL_DEBUG the stack) and exits with `exitCode`. */
export function fail(error: unknown, exitCode = EXIT_FAILURE): Promise<never> {
  process.stderr.write(`rill: error: ${describeError(error)}\n`);
  if (process.env.RILL_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return exit(exitCode);
}

/**
 * Exits once stdout and stderr have taken everything written to them. A client may leave sockets
 * or timers behind after an error, so the commands end with an explicit exit instead of waiting
 * for an empty event loop.
 */
export async function exit(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
    stream.once('error', () => resolve());
  });
}

/**
 * Wraps a command's action: a thrown error becomes the one-line failure; success exits 0 once the
 * output is written.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      await fail(error);
    }
    await exit(0);
  };
}

/**
 * Makes commander report usage errors the same way, on `command` and every subcommand: one line
 * starting `rill: error:`, exit code 2. Help and --version still exit 0.
 */
export function reportUsageErrorsOnOneLine(command: Command): void {
  command.configureOutput({ outputError: (text, write) => write(`rill: ${oneLine(text)}\n`) });
  command.exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  });
  for (const sub of command.commands) reportUsageErrorsOnOneLine(sub);
}

function causeOf(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.cause === undefined) return undefined;
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}
