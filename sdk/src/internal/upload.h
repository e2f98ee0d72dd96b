// How the C boundary makes a hues::Upload on a client it holds as a ClientCore (the public
// constructor takes a hues::Client); not exported from libhues.
#pragma once

#include <memory>

#include "hues/upload.h"

namespace hues::internal {

struct UploadFactory {
  static std::shared_ptr<Upload> make(std::shared_ptr<ClientCore> core, UploadOptions options);
};

}  // namespace hues::internal
