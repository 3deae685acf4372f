// What the addon's source files share: helpers and each file's export registration.
#pragma once

#include "util.h"

namespace rill {

void RegisterFiles(Napi::Env env, Napi::Object exports);
void RegisterMappings(Napi::Env env, Napi::Object exports);

}  // namespace rill
