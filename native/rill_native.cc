// rill_native: the only native code in Rill.
//
// It wraps the handful of system calls that Node's fs module does not offer — mmap/munmap as
// external ArrayBuffers, fallocate, fdatasync off the event loop, madvise and page pre-faulting,
// posix_fadvise — plus CRC-32C, which record batches need at memory speed. Everything else
// (policy, layout, recovery) lives in TypeScript.
//
// Conventions:
// - Every failure throws a JS Error shaped like Node's fs errors: `code` ('ENOSPC', 'EACCES', ...),
//   `errno` (positive number) and `syscall`. Nothing here asserts or aborts.
// - Buffers are caller-owned; functions take (buffer, offset, length) and check the bounds.
// - Mappings belong to the thread (napi_env) that created them: an external ArrayBuffer cannot be
//   transferred, so each thread maps what it needs itself.
//
// Files: util.h (errors, arguments), files.cc (descriptors), mappings.cc (mmap and friends),
// crc32c.cc (checksums); this file registers them.

#include "addon.h"
#include "crc32c.h"

#include <mutex>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace rill {
namespace {

bool hardwareCrc = false;

// CRC-32C entry points (the algorithms are in crc32c.cc).

uint32_t ArgSeed(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return 0;
  if (!info[i].IsNumber()) ThrowType(info.Env(), "seed must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

// crc32c(buffer, offset?, length?, seed?) — seed continues a previous crc32c() result.
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Bytes b = ArgBytes(info, 0, 1, 2);
  uint32_t seed = ArgSeed(info, 3);
  uint32_t crc = hardwareCrc ? Crc32cHardware(seed, b.data, b.length) : Crc32cSoftware(seed, b.data, b.length);
  return Napi::Number::New(info.Env(), crc);
}

Napi::Value Crc32cSoftwareJs(const Napi::CallbackInfo& info) {
  Bytes b = ArgBytes(info, 0, 1, 2);
  return Napi::Number::New(info.Env(), Crc32cSoftware(ArgSeed(info, 3), b.data, b.length));
}

Napi::Value Crc32cHardwareJs(const Napi::CallbackInfo& info) {
  if (!hardwareCrc) throw Napi::Error::New(info.Env(), "this CPU has no CRC-32C instruction");
  Bytes b = ArgBytes(info, 0, 1, 2);
  return Napi::Number::New(info.Env(), Crc32cHardware(ArgSeed(info, 3), b.data, b.length));
}

}  // namespace
}  // namespace rill

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace rill;
  // Init runs once per thread that loads the addon (workers too); the tables are built once.
  static std::once_flag crcReady;
  std::call_once(crcReady, [] {
    Crc32cInit();
    hardwareCrc = Crc32cHasHardware();
  });
  RegisterFiles(env, exports);
  RegisterMappings(env, exports);
  exports.Set("crc32c", Napi::Function::New(env, Crc32c));
  exports.Set("crc32cSoftware", Napi::Function::New(env, Crc32cSoftwareJs));
  exports.Set("crc32cHardware", Napi::Function::New(env, Crc32cHardwareJs));
  exports.Set("hasHardwareCrc32c", Napi::Boolean::New(env, hardwareCrc));
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("MADV_NORMAL", MADV_NORMAL);
  constants.Set("MADV_RANDOM", MADV_RANDOM);
  constants.Set("MADV_SEQUENTIAL", MADV_SEQUENTIAL);
  constants.Set("MADV_WILLNEED", MADV_WILLNEED);
  constants.Set("MADV_DONTNEED", MADV_DONTNEED);
#if defined(__linux__)
  constants.Set("POSIX_FADV_SEQUENTIAL", POSIX_FADV_SEQUENTIAL);
  constants.Set("POSIX_FADV_WILLNEED", POSIX_FADV_WILLNEED);
  constants.Set("POSIX_FADV_DONTNEED", POSIX_FADV_DONTNEED);
#else
  constants.Set("POSIX_FADV_SEQUENTIAL", 2);
  constants.Set("POSIX_FADV_WILLNEED", 3);
  constants.Set("POSIX_FADV_DONTNEED", 4);
#endif
  constants.Set("PAGE_SIZE", Napi::Number::New(env, static_cast<double>(sysconf(_SC_PAGESIZE))));
  exports.Set("constants", constants);
  return exports;
}

NODE_API_MODULE(rill_native, Init)
