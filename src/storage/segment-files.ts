// Names of the files in a partition directory. Any thread.
//
//   <partition>/00000000000000000000.log        segment data, named by its base offset
//   <partition>/00000000000000000000.index      sparse offset index
//   <partition>/00000000000000000000.timeindex  sparse time index
//   <partition>/checkpoint                      see checkpoint.ts

import { join } from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';

export type SegmentFileKind = 'log' | 'index' | 'timeindex';

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

export function segmentFileStem(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

export interface SegmentPaths {
  log: string;
  index: string;
  timeIndex: string;
}

export function segmentPaths(dir: string, baseOffset: number): SegmentPaths {
  const stem = join(dir, segmentFileStem(baseOffset));
  return { log: stem + LOG_SUFFIX, index: stem + INDEX_SUFFIX, timeIndex: stem + TIME_INDEX_SUFFIX };
}

/** The base offset and kind of a segment file name, or null for any other name. */
export function parseSegmentFileName(name: string): { baseOffset: number; kind: SegmentFileKind } | null {
  const match = SEGMENT_FILE.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: match[2] as SegmentFileKind };
}
