// The header of an error response frame: a frame whose errorCode is not NONE. Any thread.
//
// A frame-level error means the request as a whole was not served: it could not be decoded
// (INVALID_REQUEST, INVALID_TOPIC_EXCEPTION, UNSUPPORTED_VERSION, FRAME_TOO_LARGE) or the broker
// failed it before looking at partitions. Its header replaces the API's response header and its body
// is empty. For UNSUPPORTED_VERSION it also lists the broker's versions, so a client that guessed
// wrong can pick a version without another round trip.

import type { ApiVersionRange } from './api-hello.js';
import { apiVersionRanges } from './api-hello.js';
import { errorMessage } from './fields.js';
import { optional, struct, type Field } from './schema.js';

export interface ErrorHeader {
  /** What went wrong, for people. */
  message?: string;
  /** With UNSUPPORTED_VERSION: the versions the broker speaks, per api (as in Hello). */
  apis?: ApiVersionRange[];
}

export const errorHeader: Field<ErrorHeader> = struct<ErrorHeader>({
  message: errorMessage,
  apis: optional(apiVersionRanges),
});
