// Query-string and path parameters: parsed strictly, with the bounds in the message. Main thread.
//
// A parameter that is present but malformed is an error (INVALID_REQUEST, 400), never silently
// replaced by a default: `maxMessages=1O` must not fetch 100.

import { invalidRequest } from './http-errors.js';

const INTEGER = /^-?\d+$/;

/** An integer in [min, max], or `fallback` when the parameter is absent. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  return intValue(raw, name, min, max);
}

export function intValue(raw: string, name: string, min: number, max: number): number {
  const value = INTEGER.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value)) throw invalidRequest(`${name} must be an integer, got '${raw}'`, { parameter: name });
  if (value < min || value > max) throw invalidRequest(`${name} must be between ${min} and ${max}, got ${value}`, { parameter: name });
  return value;
}

/** One of `choices`, or `fallback` when absent. */
export function enumParam<T extends string>(query: URLSearchParams, name: string, choices: readonly T[], fallback: T): T {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw invalidRequest(`${name} must be one of ${choices.join(', ')}, got '${raw}'`, { parameter: name });
  return raw as T;
}

/** The `{partition}` path segment: a non-negative integer. */
export function partitionParam(raw: string): number {
  return intValue(raw, 'partition', 0, 2 ** 31 - 1);
}
