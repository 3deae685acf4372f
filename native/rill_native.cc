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
// Mapping lifetime: a mapping is released exactly once, by whichever comes first of munmap() and
// the ArrayBuffer's finalizer. munmap() also detaches the ArrayBuffer, so a view that outlives the
// mapping reads as empty instead of faulting. While a prefault runs on the libuv thread pool the
// mapping is pinned and munmap() only marks it; the real munmap happens when the prefault ends.

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define RILL_CRC_X86 1
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#define RILL_CRC_ARM 1
#endif

namespace {

// ---------------------------------------------------------------------------------------------
// Errors

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(code) + ": " + strerror(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw ErrnoError(env, err, syscall);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), "fd must be a number");
  int64_t fd = info[i].As<Napi::Number>().Int64Value();
  if (fd < 0 || fd > INT32_MAX) ThrowRange(info.Env(), "fd out of range");
  return static_cast<int>(fd);
}

// A non-negative integer that fits a double exactly (offsets and lengths up to 2^53).
int64_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  double value = info[i].As<Napi::Number>().DoubleValue();
  if (!(value >= 0) || value > 9007199254740991.0 || value != static_cast<double>(static_cast<int64_t>(value)))
    ThrowRange(info.Env(), std::string(name) + " must be a non-negative integer");
  return static_cast<int64_t>(value);
}

// An optional int32 argument: `fallback` when absent or undefined.
int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int fallback) {
  if (info.Length() <= i || info[i].IsUndefined()) return fallback;
  if (!info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

struct Bytes {
  uint8_t* data;
  size_t length;
};

// Accepts an ArrayBuffer or any ArrayBufferView; returns the bytes [offset, offset + length) of it.
// offset and length are optional (default: the whole view).
Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, size_t offsetArg, size_t lengthArg) {
  Napi::Env env = info.Env();
  if (info.Length() <= i) ThrowType(env, "buffer is required");
  uint8_t* base = nullptr;
  size_t size = 0;
  if (info[i].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[i].As<Napi::ArrayBuffer>();
    base = static_cast<uint8_t*>(ab.Data());
    size = ab.ByteLength();
  } else if (info[i].IsTypedArray()) {
    Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
    base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    size = ta.ByteLength();
  } else if (info[i].IsDataView()) {
    Napi::DataView dv = info[i].As<Napi::DataView>();
    base = static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    size = dv.ByteLength();
  } else {
    ThrowType(env, "buffer must be an ArrayBuffer or an ArrayBufferView");
  }
  size_t offset = 0;
  size_t length = size;
  if (info.Length() > offsetArg && !info[offsetArg].IsUndefined()) offset = ArgSize(info, offsetArg, "offset");
  if (offset > size) ThrowRange(env, "offset is beyond the end of the buffer");
  length = size - offset;
  if (info.Length() > lengthArg && !info[lengthArg].IsUndefined()) {
    size_t wanted = ArgSize(info, lengthArg, "length");
    if (wanted > length) ThrowRange(env, "offset + length is beyond the end of the buffer");
    length = wanted;
  }
  return Bytes{base + offset, length};
}

// ---------------------------------------------------------------------------------------------
// File descriptors

Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int flags = ArgInt(info, 1, "flags", O_RDONLY);
  int mode = ArgInt(info, 2, "mode", 0644);
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowErrno(env, errno, "open");
  return Napi::Number::New(env, fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  // close() is not retried on EINTR: on Linux the descriptor is released either way.
  if (::close(fd) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

Napi::Value FileSize(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  struct stat st;
  if (::fstat(fd, &st) != 0) ThrowErrno(info.Env(), errno, "fstat");
  return Napi::Number::New(info.Env(), static_cast<double>(st.st_size));
}

// Reserves blocks for [offset, offset + length) and extends the file if needed. Writing through a
// mapping into a page without blocks on a full disk raises SIGBUS, so the log only ever writes
// into ranges that fallocate() has reserved: disk full surfaces here, as ENOSPC, not as a signal.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  if (length == 0) return env.Undefined();
#if defined(__linux__)
  int rc;
  do {
    rc = ::fallocate(fd, 0, offset, length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno != EOPNOTSUPP) ThrowErrno(env, errno, "fallocate");
    // Filesystems without fallocate (some network filesystems): glibc emulates by writing.
    int err = ::posix_fallocate(fd, offset, length);
    if (err != 0) ThrowErrno(env, err, "posix_fallocate");
  }
#else
  struct stat st;
  if (::fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
  if (st.st_size < offset + length && ::ftruncate(fd, offset + length) != 0) ThrowErrno(env, errno, "ftruncate");
#endif
  return env.Undefined();
}

Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0);
  int64_t length = ArgSize(info, 1, "length");
  int rc;
  do {
    rc = ::ftruncate(fd, length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) ThrowErrno(info.Env(), errno, "ftruncate");
  return info.Env().Undefined();
}

int DoFdatasync(int fd) {
#if defined(__APPLE__)
  return ::fsync(fd) == 0 ? 0 : errno;
#else
  int rc;
  do {
    rc = ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : errno;
#endif
}

Napi::Value Fdatasync(const Napi::CallbackInfo& info) {
  int err = DoFdatasync(ArgFd(info, 0));
  if (err != 0) ThrowErrno(info.Env(), err, "fdatasync");
  return info.Env().Undefined();
}

// fdatasync on the libuv thread pool, so a group commit does not stall the owner's event loop.
class FdatasyncWorker : public Napi::AsyncWorker {
 public:
  FdatasyncWorker(Napi::Env env, int fd)
      : Napi::AsyncWorker(env, "rill.fdatasync"), fd_(fd), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { err_ = DoFdatasync(fd_); }
  void OnOK() override {
    if (err_ == 0) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(ErrnoError(Env(), err_, "fdatasync").Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  int fd_;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value FdatasyncAsync(const Napi::CallbackInfo& info) {
  auto* worker = new FdatasyncWorker(info.Env(), ArgFd(info, 0));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Fadvise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  int advice = ArgInt(info, 3, "advice", 0);
#if defined(__linux__)
  int err = ::posix_fadvise(fd, offset, length, advice);
  if (err != 0) ThrowErrno(env, err, "posix_fadvise");
#else
  (void)fd; (void)offset; (void)length; (void)advice;
#endif
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------------
// Mappings

struct Mapping {
  uint8_t* addr;
  size_t length;
  int pins = 0;                 // prefaults in flight on the thread pool
  bool unmapRequested = false;  // munmap() called while pinned
  bool released = false;        // the munmap(2) has happened
  bool finalized = false;       // the ArrayBuffer is gone; the last unpin frees this record
};

// Per-thread registry from mapping address to its record, so munmap(arrayBuffer) finds it.
// It is never freed: finalizers may still run while the thread tears down, after the cleanup hook.
struct AddonData {
  std::unordered_map<void*, Mapping*> mappings;
  bool closing = false;
};

void Forget(AddonData* data, Mapping* m) {
  if (data == nullptr || data->closing) return;
  auto it = data->mappings.find(m->addr);
  if (it != data->mappings.end() && it->second == m) data->mappings.erase(it);
}

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void Release(Mapping* m) {
  if (m->released) return;
  m->released = true;
  ::munmap(m->addr, m->length);
}

void FinalizeMapping(Napi::Env env, void* /*data*/, Mapping* m) {
  Forget(Data(env), m);
  if (m->pins > 0) {
    // The buffer is unreachable but a prefault still uses the range: the prefault releases it.
    m->unmapRequested = true;
    m->finalized = true;
    return;
  }
  Release(m);
  delete m;
}

Napi::Value Mmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgFd(info, 0);
  int64_t length = ArgSize(info, 1, "length");
  int64_t offset = ArgSize(info, 2, "offset");
  bool writable = info.Length() > 3 && info[3].ToBoolean().Value();
  if (length == 0) ThrowRange(env, "length must be greater than zero");
  if (offset % sysconf(_SC_PAGESIZE) != 0) ThrowRange(env, "offset must be a multiple of the page size");
  int prot = writable ? (PROT_READ | PROT_WRITE) : PROT_READ;
  void* addr = ::mmap(nullptr, static_cast<size_t>(length), prot, MAP_SHARED, fd, offset);
  if (addr == MAP_FAILED) ThrowErrno(env, errno, "mmap");
  auto* m = new Mapping{static_cast<uint8_t*>(addr), static_cast<size_t>(length)};
  Data(env)->mappings[addr] = m;
  return Napi::ArrayBuffer::New(env, addr, m->length, FinalizeMapping, m);
}

Mapping* FindMapping(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsArrayBuffer()) ThrowType(env, "mapping must be an ArrayBuffer returned by mmap()");
  Napi::ArrayBuffer ab = info[i].As<Napi::ArrayBuffer>();
  void* addr = ab.Data();
  auto& mappings = Data(env)->mappings;
  auto it = mappings.find(addr);
  if (addr == nullptr || it == mappings.end() || it->second->unmapRequested || it->second->released)
    ThrowType(env, "not a live mapping returned by mmap() on this thread");
  return it->second;
}

Napi::Value Munmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = FindMapping(info, 0);
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  ab.Detach();  // views now read as empty, never as freed memory
  m->unmapRequested = true;
  if (m->pins == 0) Release(m);
  // The record itself lives until the finalizer runs; unregister it now so that the address can
  // be reused by a later mmap().
  Forget(Data(env), m);
  return env.Undefined();
}

Napi::Value Msync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = FindMapping(info, 0);
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  if (static_cast<size_t>(offset + length) > m->length) ThrowRange(env, "range is beyond the mapping");
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = offset - offset % page;
  if (::msync(m->addr + start, static_cast<size_t>(offset + length - start), MS_SYNC) != 0) ThrowErrno(env, errno, "msync");
  return env.Undefined();
}

Napi::Value Madvise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = FindMapping(info, 0);
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  int advice = ArgInt(info, 3, "advice", MADV_NORMAL);
  if (static_cast<size_t>(offset + length) > m->length) ThrowRange(env, "range is beyond the mapping");
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = offset - offset % page;
  if (::madvise(m->addr + start, static_cast<size_t>(offset + length - start), advice) != 0) ThrowErrno(env, errno, "madvise");
  return env.Undefined();
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// Faults the pages of a range in, writable, on the thread pool, so the appender does not take a
// page fault on each fresh page (RocketMQ warms its mapped files for the same reason). Uses
// MADV_POPULATE_WRITE (Linux 5.14+), which changes no data, so it is safe while the owner
// writes into the same range. Older kernels fall back to reading one byte per page, which maps
// the page so that the later write fault is cheaper. Ranges past the end of the file are not an
// error for the caller: they report EFAULT, never SIGBUS.
class PrefaultWorker : public Napi::AsyncWorker {
 public:
  PrefaultWorker(Napi::Env env, Mapping* m, uint8_t* start, size_t length)
      : Napi::AsyncWorker(env, "rill.prefault"), m_(m), start_(start), length_(length),
        deferred_(Napi::Promise::Deferred::New(env)) {
    m_->pins++;
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    if (::madvise(start_, length_, MADV_POPULATE_WRITE) == 0) return;
    if (errno != EINVAL) {
      err_ = errno;
      return;
    }
    long page = sysconf(_SC_PAGESIZE);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < length_; i += page) sink ^= start_[i];
    (void)sink;
  }
  void OnOK() override {
    Unpin();
    if (err_ == 0) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(ErrnoError(Env(), err_, "madvise").Value());
  }
  void OnError(const Napi::Error& e) override {
    Unpin();
    deferred_.Reject(e.Value());
  }

 private:
  void Unpin() {
    if (--m_->pins > 0) return;
    if (m_->unmapRequested) Release(m_);
    if (m_->finalized) delete m_;
  }
  Mapping* m_;
  uint8_t* start_;
  size_t length_;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value PrefaultAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Mapping* m = FindMapping(info, 0);
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  if (static_cast<size_t>(offset + length) > m->length) ThrowRange(env, "range is beyond the mapping");
  long page = sysconf(_SC_PAGESIZE);
  int64_t start = offset - offset % page;
  auto* worker = new PrefaultWorker(env, m, m->addr + start, static_cast<size_t>(offset + length - start));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka's RecordBatch v2 uses.

uint32_t crcTable[8][256];

void InitCrcTable() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t crc = i;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    crcTable[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int t = 1; t < 8; t++) crcTable[t][i] = (crcTable[t - 1][i] >> 8) ^ crcTable[0][crcTable[t - 1][i] & 0xff];
  }
}

// Slicing-by-8: eight table lookups per 8 bytes.
uint32_t Crc32cSoftware(uint32_t crc, const uint8_t* p, size_t n) {
  crc = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    crc = (crc >> 8) ^ crcTable[0][(crc ^ *p++) & 0xff];
    n--;
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    word ^= crc;
    crc = crcTable[7][word & 0xff] ^ crcTable[6][(word >> 8) & 0xff] ^ crcTable[5][(word >> 16) & 0xff] ^
          crcTable[4][(word >> 24) & 0xff] ^ crcTable[3][(word >> 32) & 0xff] ^ crcTable[2][(word >> 40) & 0xff] ^
          crcTable[1][(word >> 48) & 0xff] ^ crcTable[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ crcTable[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

#if defined(RILL_CRC_X86)
bool DetectHardwareCrc() {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
    n--;
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = __builtin_ia32_crc32qi(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}
#elif defined(RILL_CRC_ARM)
#include <arm_acle.h>
bool DetectHardwareCrc() { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

__attribute__((target("+crc"))) uint32_t Crc32cHardware(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __crc32cd(c, word);
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = __crc32cb(c, *p++);
  return ~c;
}
#else
bool DetectHardwareCrc() { return false; }
uint32_t Crc32cHardware(uint32_t crc, const uint8_t* p, size_t n) { return Crc32cSoftware(crc, p, n); }
#endif

bool hardwareCrc = false;

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

// ---------------------------------------------------------------------------------------------

void NoopFinalize(Napi::Env, AddonData*, void*) {}

void Cleanup(void* arg) {
  // The thread is going away: release what is still mapped. Records are freed by finalizers.
  auto* data = static_cast<AddonData*>(arg);
  for (auto& entry : data->mappings) {
    if (entry.second->pins == 0) Release(entry.second);
  }
  data->mappings.clear();
  data->closing = true;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  static bool tablesReady = false;
  if (!tablesReady) {
    InitCrcTable();
    hardwareCrc = DetectHardwareCrc();
    tablesReady = true;
  }
  auto* data = new AddonData();
  env.SetInstanceData<AddonData, void, NoopFinalize>(data, nullptr);
  napi_add_env_cleanup_hook(env, Cleanup, data);

  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("fileSize", Napi::Function::New(env, FileSize));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("fdatasync", Napi::Function::New(env, Fdatasync));
  exports.Set("fdatasyncAsync", Napi::Function::New(env, FdatasyncAsync));
  exports.Set("fadvise", Napi::Function::New(env, Fadvise));
  exports.Set("mmap", Napi::Function::New(env, Mmap));
  exports.Set("munmap", Napi::Function::New(env, Munmap));
  exports.Set("msync", Napi::Function::New(env, Msync));
  exports.Set("madvise", Napi::Function::New(env, Madvise));
  exports.Set("prefaultAsync", Napi::Function::New(env, PrefaultAsync));
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

}  // namespace

NODE_API_MODULE(rill_native, Init)
