// Rill's package entry. The client (a later issue) becomes the main export; for now the storage
// layer and the shared error table are what the package offers.

export * from './errors.js';
export * from './storage/index.js';
