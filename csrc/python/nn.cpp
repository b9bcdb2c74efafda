#include "bindings.h"

namespace tg::python {

void bind_nn(py::module_& module, TensorClass& tensor) {}

}  // namespace tg::python
