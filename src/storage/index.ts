// Public face of the storage layer: partition logs and the record batch format.

export { PartitionLog } from './partition-log.js';
export { storageError } from './storage-error.js';
export type { AppendResult, PartitionLogOptions, ReadOptions, ReadResult, RetentionResult } from './partition-log.js';
export { syncDirectory, writeDurably } from './durable-files.js';
export type { RecoveryReport } from './log-loader.js';
export { DEFAULT_LOG_CONFIG, describeLogConfig, logConfigFromProperties, logConfigToProperties, resolveLogConfig } from './log-config.js';
export type { CleanupPolicy, FlushMode, LogConfig } from './log-config.js';
export { compacts } from './log-config.js';
export { isSkip as isCleanSkip } from './log-cleaner.js';
export type { CleanResult, CleanSkip } from './log-cleaner.js';
export { encodeRecordBatch } from './batch-encoder.js';
export type { BatchInput, HeaderInput, RecordInput } from './batch-encoder.js';
export { decodeRecordBatch, decodeRecordBatches, type RecordWindow } from './batch-decoder.js';
export type { DecodedBatch, DecodedHeader, DecodedRecord } from './batch-decoder.js';
export { checkBatchFrame, checkProducedBatch } from './batch-validator.js';
export type { BatchProblem } from './batch-validator.js';
export * as BatchLayout from './batch-layout.js';
export { Compression, TimestampType } from './batch-layout.js';
