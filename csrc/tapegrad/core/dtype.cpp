#include "tapegrad/core/dtype.h"

#include <atomic>

namespace tg {

namespace {
// Atomic: ops read it while running without the Python GIL.
std::atomic<DType> g_default_dtype{DType::Float32};
}

DType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }

void set_default_dtype(DType dtype) {
  TG_CHECK_TYPE(is_floating(dtype), "set_default_dtype", "only floating-point dtypes can be the default, got ",
                dtype_name(dtype));
  g_default_dtype.store(dtype, std::memory_order_relaxed);
}

}  // namespace tg
