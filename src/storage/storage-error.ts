// Turning system errors into the shared error table. Any thread.

import { Errors, RillError, type ErrorSpec } from '../errors.js';
import { isErrnoError } from '../native/index.js';

/** Wraps a system error (ENOSPC, EACCES, EIO, ...) as STORAGE_ERROR; RillErrors pass through. */
export function storageError(error: unknown, doing: string, spec: ErrorSpec = Errors.STORAGE_ERROR): RillError {
  if (error instanceof RillError) return error;
  if (isErrnoError(error)) {
    return new RillError(spec, `${doing}: ${error.code} (${error.syscall})`, { errno: error.code, syscall: error.syscall }, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RillError(spec, `${doing}: ${message}`, {}, { cause: error });
}
