#include "bindings.h"

namespace tg::python {

void bind_index(py::module_& module, TensorClass& tensor) {}

}  // namespace tg::python
