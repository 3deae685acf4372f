// How `rill consume` prints a message: one line per message. Main thread.
//
//   value  the value's bytes and a newline, like kafka-console-consumer; a null value prints as
//          an empty line (kcat prints nothing either). Keys and headers are not shown.
//   json   one JSON object per line (JSON Lines), for jq and scripts:
//          {"topic","partition","offset","timestamp","key","headers","value"}
//          key, value and header values are UTF-8 text (null stays null); timestamp is epoch ms.
//
// Bytes that are not valid UTF-8 are replaced by U+FFFD in json; value format writes them as they
// are, so `rill consume --format value > file` gives back exactly what `rill produce < file` sent.

export const MESSAGE_FORMATS = ['value', 'json'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

/** What a consumed message looks like to the formatter (the client's message, plus where it came from). */
export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number | bigint | string;
  timestamp: number | bigint | string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Record<string, Uint8Array | string | null | undefined>;
}

export interface JsonMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  headers: Record<string, string | null>;
  value: string | null;
}

const NEWLINE = Buffer.from('\n');

/** The bytes to write for `message`, newline included. */
export function formatMessage(format: MessageFormat, message: ConsumedMessage): Buffer {
  if (format === 'value') return message.value === null ? NEWLINE : Buffer.concat([message.value, NEWLINE]);
  return Buffer.from(`${JSON.stringify(toJson(message))}\n`);
}

export function toJson(message: ConsumedMessage): JsonMessage {
  const headers: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name] = value === null ? null : text(value);
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key === null ? null : text(message.key),
    headers,
    value: message.value === null ? null : text(message.value),
  };
}

function text(bytes: Uint8Array | string): string {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
