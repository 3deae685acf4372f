// The logger the client writes to: anything pino-compatible (pino itself, or an object with its
// four methods), silent by default. Application thread.
//
// The client logs only what an operator needs to see a problem coming: connections made and lost,
// retries, metadata refreshes, epoch bumps. Nothing is logged per message.

export interface ClientLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

const nothing = (): void => {};

export const silentLogger: ClientLogger = Object.freeze({ debug: nothing, info: nothing, warn: nothing, error: nothing });
