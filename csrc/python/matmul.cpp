#include "bindings.h"

namespace tg::python {

void bind_matmul(py::module_& module, TensorClass& tensor) {}

}  // namespace tg::python
