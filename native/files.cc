// File descriptor calls: open/close, fstat size, fallocate, ftruncate, fdatasync (also on the
// libuv thread pool) and posix_fadvise.

#include "addon.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rill {
namespace {

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
    SettleQuietly([&] {
      if (err_ == 0) deferred_.Resolve(Env().Undefined());
      else deferred_.Reject(ErrnoError(Env(), err_, "fdatasync").Value());
    });
  }
  void OnError(const Napi::Error& e) override {
    SettleQuietly([&] { deferred_.Reject(e.Value()); });
  }

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

}  // namespace

void RegisterFiles(Napi::Env env, Napi::Object exports) {
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("fileSize", Napi::Function::New(env, FileSize));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("fdatasync", Napi::Function::New(env, Fdatasync));
  exports.Set("fdatasyncAsync", Napi::Function::New(env, FdatasyncAsync));
  exports.Set("fadvise", Napi::Function::New(env, Fadvise));
}

}  // namespace rill
