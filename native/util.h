// Helpers shared by the addon's source files: errno errors and argument checks.
// Every failure is thrown as a JS Error (C++ exceptions are on: NAPI_CPP_EXCEPTIONS).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace rill {

// ---------------------------------------------------------------------------------------------
// Errors

inline Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  const char* code = uv_err_name(-err);
  std::string message = std::string(code) + ": " + strerror(err) + ", " + syscall;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

// Settles an async worker's promise from its completion callback. That callback also runs while a
// worker thread is being torn down (its owner died or the pool closed), when JS can no longer run:
// resolving then throws, and an exception escaping the callback aborts the whole process. Nobody
// can be waiting on the promise at that point, so the failure is dropped.
template <typename Settle>
inline void SettleQuietly(Settle settle) {
  try {
    settle();
  } catch (const Napi::Error&) {
  }
}

[[noreturn]] inline void ThrowErrno(Napi::Env env, int err, const char* syscall) {
  throw ErrnoError(env, err, syscall);
}

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

inline int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), "fd must be a number");
  int64_t fd = info[i].As<Napi::Number>().Int64Value();
  if (fd < 0 || fd > INT32_MAX) ThrowRange(info.Env(), "fd out of range");
  return static_cast<int>(fd);
}

// A non-negative integer that fits a double exactly (offsets and lengths up to 2^53).
inline int64_t ArgSize(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  double value = info[i].As<Napi::Number>().DoubleValue();
  if (!(value >= 0) || value > 9007199254740991.0 || value != static_cast<double>(static_cast<int64_t>(value)))
    ThrowRange(info.Env(), std::string(name) + " must be a non-negative integer");
  return static_cast<int64_t>(value);
}

// An optional int32 argument: `fallback` when absent or undefined.
inline int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int fallback) {
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
inline Bytes ArgBytes(const Napi::CallbackInfo& info, size_t i, size_t offsetArg, size_t lengthArg) {
  Napi::Env env = info.Env();
  if (info.Length() <= i) ThrowType(env, "buffer is required");
  uint8_t* base = nullptr;
  size_t size = 0;
  if (info[i].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[i].As<Napi::ArrayBuffer>();
    base = static_cast<uint8_t*>(ab.Data());
    size = ab.ByteLength();
  } else if (info[i].IsTypedArray()) {
    // The data pointer straight from the view: going through its ArrayBuffer fails for views of
    // a SharedArrayBuffer (the rings), which N-API will not hand out as an ArrayBuffer.
    Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
    void* data = nullptr;
    size_t elements = 0;
    if (napi_get_typedarray_info(env, info[i], nullptr, &elements, &data, nullptr, nullptr) != napi_ok) ThrowType(env, "unreadable typed array");
    base = static_cast<uint8_t*>(data);
    size = ta.ByteLength();
  } else if (info[i].IsDataView()) {
    void* data = nullptr;
    size_t byteLength = 0;
    if (napi_get_dataview_info(env, info[i], &byteLength, &data, nullptr, nullptr) != napi_ok) ThrowType(env, "unreadable data view");
    base = static_cast<uint8_t*>(data);
    size = byteLength;
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

}  // namespace rill
