// Memory mappings as external ArrayBuffers: mmap/munmap, msync, madvise and pre-faulting.
//
// Mapping lifetime: a mapping is released exactly once, by whichever comes first of munmap() and
// the ArrayBuffer's finalizer. munmap() also detaches the ArrayBuffer, so a view that outlives the
// mapping reads as empty instead of faulting. While a prefault runs on the libuv thread pool the
// mapping is pinned and munmap() only marks it; the real munmap happens when the prefault ends.
// Mappings belong to the thread (napi_env) that created them.

#include "addon.h"

#include <unordered_map>

#include <sys/mman.h>
#include <unistd.h>

namespace rill {
namespace {

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

// The page-aligned range covering [offset, offset + length) of the mapping in arguments 1 and 2.
struct PageRange {
  uint8_t* start;
  size_t length;
};

PageRange ArgPageRange(const Napi::CallbackInfo& info, Mapping* m) {
  int64_t offset = ArgSize(info, 1, "offset");
  int64_t length = ArgSize(info, 2, "length");
  if (static_cast<size_t>(offset + length) > m->length) ThrowRange(info.Env(), "range is beyond the mapping");
  int64_t start = offset - offset % sysconf(_SC_PAGESIZE);
  return PageRange{m->addr + start, static_cast<size_t>(offset + length - start)};
}

Napi::Value Msync(const Napi::CallbackInfo& info) {
  PageRange r = ArgPageRange(info, FindMapping(info, 0));
  if (::msync(r.start, r.length, MS_SYNC) != 0) ThrowErrno(info.Env(), errno, "msync");
  return info.Env().Undefined();
}

Napi::Value Madvise(const Napi::CallbackInfo& info) {
  PageRange r = ArgPageRange(info, FindMapping(info, 0));
  int advice = ArgInt(info, 3, "advice", MADV_NORMAL);
  if (::madvise(r.start, r.length, advice) != 0) ThrowErrno(info.Env(), errno, "madvise");
  return info.Env().Undefined();
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
    SettleQuietly([&] {
      if (err_ == 0) deferred_.Resolve(Env().Undefined());
      else deferred_.Reject(ErrnoError(Env(), err_, "madvise").Value());
    });
  }
  void OnError(const Napi::Error& e) override {
    Unpin();
    SettleQuietly([&] { deferred_.Reject(e.Value()); });
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
  Mapping* m = FindMapping(info, 0);
  PageRange r = ArgPageRange(info, m);
  auto* worker = new PrefaultWorker(info.Env(), m, r.start, r.length);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

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

}  // namespace

void RegisterMappings(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData, void, NoopFinalize>(data, nullptr);
  napi_add_env_cleanup_hook(env, Cleanup, data);
  exports.Set("mmap", Napi::Function::New(env, Mmap));
  exports.Set("munmap", Napi::Function::New(env, Munmap));
  exports.Set("msync", Napi::Function::New(env, Msync));
  exports.Set("madvise", Napi::Function::New(env, Madvise));
  exports.Set("prefaultAsync", Napi::Function::New(env, PrefaultAsync));
}

}  // namespace rill
