// Small, hand-written validators for msgpack headers, composed into one schema per API message.
// Any thread; the main thread validates every request header it routes.
//
// A field check takes an unknown value and returns it typed, or throws a Violation saying what is
// wrong. Checks compose (struct, array, optional, ...); a struct builds a fresh object holding only
// the fields it declares, so unknown fields sent by newer peers are ignored, and nil is read as
// absent for optional fields. The Violation records the path of the offending field
// ('partitions[2].offset'); decoders turn it into the message of an INVALID_REQUEST error (or the
// error the check names, e.g. INVALID_TOPIC_EXCEPTION).
//
// Violations are plain objects, not Errors: no stack is captured, and none escape this layer.
// On the success path a check is a few type tests, with no allocation but the output objects.

import { Errors, type ErrorSpec } from '../errors.js';
import { describeKind, isPlainObject } from './header-codec.js';

/** Checks a value and returns it typed, or throws a Violation. */
export type Field<T> = ((value: unknown) => T) & { readonly isOptional?: true };

/** One field check per property of T; optional properties take optional checks. */
export type FieldsOf<T> = { readonly [K in keyof Required<T>]: Field<T[K]> };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export class Violation {
  /** Field names and array indexes from the outermost in, filled in as the violation propagates. */
  readonly path: (string | number)[] = [];
  constructor(
    readonly problem: string,
    readonly spec: ErrorSpec = Errors.INVALID_REQUEST,
  ) {}

  /** "'partitions[2].offset' must be ..." or, for the header as a whole, "header must be ...". */
  describe(): string {
    if (this.path.length === 0) return `header ${this.problem}`;
    let where = '';
    for (const step of this.path) {
      if (typeof step === 'number') where += `[${step}]`;
      else if (!IDENTIFIER.test(step)) where += `[${show(step)}]`;
      else where += where === '' ? step : `.${step}`;
    }
    return `'${where}' ${this.problem}`;
  }
}

/** A short rendering of a bad value for messages: numbers and short strings as they are. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'string':
      return value.length <= 40 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 40))}… (${value.length} chars)`;
    default:
      return describeKind(value);
  }
}

function within(error: unknown, step: string | number): unknown {
  if (error instanceof Violation) error.path.unshift(step);
  return error;
}

// ---- Scalars

/** An integer in [min, max]; `what` completes "must be ...". */
export function integer(min: number, max: number, what: string): Field<number> {
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Violation(`must be ${what}, got ${show(value)}`);
    }
    return value;
  };
}

const INT16_MAX = 0x7fff;
const INT32_MAX = 0x7fff_ffff;
const UINT16_MAX = 0xffff;

export const int16 = integer(-INT16_MAX - 1, INT16_MAX, 'an int16');
export const uint16 = integer(0, UINT16_MAX, 'a u16');
export const int32 = integer(-INT32_MAX - 1, INT32_MAX, 'an int32');
export const nonNegativeInt32 = integer(0, INT32_MAX, 'a non-negative int32');
export const positiveInt32 = integer(1, INT32_MAX, 'a positive int32');
/** 64-bit integers are carried as JS numbers and must be exact: |n| <= 2^53 - 1. */
export const int64 = integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'a safe integer');
export const nonNegativeInt64 = integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative safe integer');

export const boolean: Field<boolean> = (value) => {
  if (typeof value !== 'boolean') throw new Violation(`must be a boolean, got ${show(value)}`);
  return value;
};

export function string(maxLength: number, minLength = 0): Field<string> {
  return (value) => {
    if (typeof value !== 'string') throw new Violation(`must be a string, got ${show(value)}`);
    if (value.length < minLength || value.length > maxLength) {
      throw new Violation(`must be a string of ${minLength}..${maxLength} characters, got ${value.length}`);
    }
    return value;
  };
}

/** One of a few listed values (compared with ===). */
export function oneOf<const V extends readonly (string | number)[]>(values: V): Field<V[number]> {
  const listed = values.map((v) => show(v)).join(' or ');
  return (value) => {
    if (!values.includes(value as V[number])) throw new Violation(`must be ${listed}, got ${show(value)}`);
    return value as V[number];
  };
}

/** Accepts anything and drops it: a name held for a later version. */
export const reserved: Field<undefined> = Object.assign(() => undefined, { isOptional: true as const });

// ---- Combinators

/** Absent or nil both mean "not given". */
export function optional<T>(field: Field<T>): Field<T | undefined> {
  return Object.assign((value: unknown) => (value === undefined || value === null ? undefined : field(value)), {
    isOptional: true as const,
  });
}

/** Adds a check on a value that already passed `field`; `check` returns a problem or undefined. */
export function refine<T>(field: Field<T>, check: (value: T) => string | undefined): Field<T> {
  return (value) => {
    const checked = field(value);
    const problem = check(checked);
    if (problem !== undefined) throw new Violation(problem);
    return checked;
  };
}

export function array<T>(element: Field<T>, minLength = 0, maxLength = Number.MAX_SAFE_INTEGER): Field<T[]> {
  return (value) => {
    if (!Array.isArray(value)) throw new Violation(`must be an array, got ${show(value)}`);
    if (value.length < minLength || value.length > maxLength) {
      throw new Violation(
        maxLength === Number.MAX_SAFE_INTEGER
          ? `must have at least ${minLength} element${minLength === 1 ? '' : 's'}, got ${value.length}`
          : `must have ${minLength}..${maxLength} elements, got ${value.length}`,
      );
    }
    const out = new Array<T>(value.length);
    for (let i = 0; i < value.length; i++) {
      try {
        out[i] = element(value[i]);
      } catch (error) {
        throw within(error, i);
      }
    }
    return out;
  };
}

/** A map with string keys (non-empty) and values checked by `valueField`. */
export function stringMap<T>(valueField: Field<T>): Field<Record<string, T>> {
  return (value) => {
    if (!isPlainObject(value)) throw new Violation(`must be a map, got ${show(value)}`);
    const out: Record<string, T> = {};
    for (const key of Object.keys(value)) {
      if (key === '' || key === '__proto__') throw new Violation(`has an invalid key ${show(key)}`);
      try {
        out[key] = valueField(value[key]);
      } catch (error) {
        throw within(error, key);
      }
    }
    return out;
  };
}

/** A map with the declared fields; others are ignored. */
export function struct<T>(fields: FieldsOf<T>): Field<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  const checks = keys.map((key) => fields[key] as Field<unknown>);
  return (value) => {
    if (!isPlainObject(value)) throw new Violation(`must be a map, got ${show(value)}`);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const check = checks[i];
      const raw = value[key];
      if (raw === undefined && check.isOptional !== true) throw within(new Violation('is missing'), key);
      let checked: unknown;
      try {
        checked = check(raw);
      } catch (error) {
        throw within(error, key);
      }
      if (checked !== undefined) out[key] = checked;
    }
    return out as T;
  };
}

/** Rejects an array whose elements repeat a key; `keyOf` names an element's identity. */
export function unique<T>(field: Field<T[]>, keyOf: (element: T) => string, what: string): Field<T[]> {
  return (value) => {
    const elements = field(value);
    if (elements.length < 2) return elements;
    const seen = new Map<string, number>();
    for (let i = 0; i < elements.length; i++) {
      const key = keyOf(elements[i]);
      const first = seen.get(key);
      if (first !== undefined) {
        throw within(new Violation(`repeats ${what} ${show(key)} of element [${first}]`), i);
      }
      seen.set(key, i);
    }
    return elements;
  };
}
