#include "tapegrad/core/dtype.h"

namespace tg {

namespace {
DType g_default_dtype = DType::Float32;
}

DType default_dtype() { return g_default_dtype; }

void set_default_dtype(DType dtype) {
  TG_CHECK_TYPE(is_floating(dtype), "[set_default_dtype] only floating-point dtypes can be the default, got ",
                dtype_name(dtype));
  g_default_dtype = dtype;
}

}  // namespace tg
