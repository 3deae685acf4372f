// Byte layout of the binary protocol's frames. Any thread; the main thread reads these fields for
// every frame it routes. The full specification, with examples, is docs/protocol.md.
//
// All integers are big-endian. Every frame starts with a u32 frameLength: the number of bytes that
// follow that field, so a whole frame is 4 + frameLength bytes.
//
// Request frame (client -> broker):
//   offset  size  field
//        0     4  frameLength     u32, bytes after this field
//        4     2  apiKey          u16, see apis.ts
//        6     2  apiVersion      u16
//        8     4  correlationId   u32, chosen by the client, echoed in the response
//       12     4  headerLength    u32, bytes of the msgpack header
//       16     h  header          one msgpack map
//   16 + h     …  body            raw bytes to the end of the frame: for Produce the record set
//                                 (whole RecordBatch v2 batches back to back), otherwise empty
//
// Response frame (broker -> client):
//   offset  size  field
//        0     4  frameLength     u32, bytes after this field
//        4     4  correlationId   u32, the request's
//        8     2  apiKey          u16, the request's
//       10     2  errorCode       i16, frame-level: 0 = NONE; per-partition errors live in the header
//       12     4  headerLength    u32, bytes of the msgpack header
//       16     h  header          one msgpack map
//   16 + h     …  body            raw bytes to the end of the frame: for Fetch the record sets of the
//                                 partitions back to back, in header order; otherwise empty
//
// Both layouts have a 16-byte fixed part and keep headerLength and the header at the same offsets,
// so one splitter and one header reader serve both directions. The body comes last and is not
// length-prefixed of its own (it runs to the end of the frame): the broker can write a response head
// and then send log bytes straight from a mapped segment, and the main thread can route a request
// from the fixed part and the small header without ever reading the body.

/** Size of the frameLength prefix. */
export const LENGTH_PREFIX_SIZE = 4;

export const FRAME_LENGTH = 0;

export const REQUEST_API_KEY = 4;
export const REQUEST_API_VERSION = 6;
export const REQUEST_CORRELATION_ID = 8;

export const RESPONSE_CORRELATION_ID = 4;
export const RESPONSE_API_KEY = 8;
export const RESPONSE_ERROR_CODE = 10;

/** Same offset in requests and responses. */
export const HEADER_LENGTH = 12;
/** Where the msgpack header starts, in requests and responses alike. */
export const HEADER = 16;

/** The fixed part of either frame: everything before the header. */
export const FIXED_SIZE = HEADER;
/** Smallest legal frameLength value: the fixed part after the prefix, with an empty header and body. */
export const MIN_FRAME_LENGTH = FIXED_SIZE - LENGTH_PREFIX_SIZE;

/**
 * Default `max.frame.bytes`: the largest whole frame (length prefix included) either side accepts.
 * 8 MiB holds a Produce of Kafka's default 1 MiB batches several times over while keeping what one
 * connection can make the broker buffer small.
 */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Smallest allowed `max.frame.bytes`: a frame with an empty header and body. */
export const MIN_MAX_FRAME_BYTES = FIXED_SIZE;
/** Largest allowed `max.frame.bytes` (Hello reports it as an int32). */
export const MAX_MAX_FRAME_BYTES = 0x7fff_ffff;

/**
 * Largest request header. Decoding msgpack costs the main thread up to ~150 ns per byte for
 * pathological input (a map of a million distinct keys: 1.6 s for 11 MB, measured), so one frame
 * must not be able to stall routing; 256 KiB bounds that to tens of milliseconds and still holds a
 * Fetch of several thousand partitions (~55 bytes each). Response headers have no such limit: they
 * are decoded by clients, and a large cluster's Metadata can be big.
 */
export const MAX_REQUEST_HEADER_BYTES = 256 * 1024;

/** apiKey in an error response to a request whose apiKey could not be read. */
export const NO_API_KEY = 0xffff;
/** correlationId in an error response to a request whose correlationId could not be read. */
export const NO_CORRELATION_ID = 0;

export const MAX_U16 = 0xffff;
export const MAX_U32 = 0xffff_ffff;
