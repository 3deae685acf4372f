// CRC-32C for record batches and checkpoints. Thread-safe after Crc32cInit().
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill {

/** Builds the software tables; call once before any other function. */
void Crc32cInit();
/** Whether this CPU has a CRC-32C instruction. */
bool Crc32cHasHardware();
/** CRC-32C of p[0, n), continuing from `seed` (0 to start). */
uint32_t Crc32cSoftware(uint32_t seed, const uint8_t* p, size_t n);
/** The same with the CPU instruction; only when Crc32cHasHardware(). */
uint32_t Crc32cHardware(uint32_t seed, const uint8_t* p, size_t n);

}  // namespace rill
