// Normalisation's fused kernels (behind tapegrad.nn.functional), private: the public names, with
// PyTorch's argument forms and its Python-side checks, live in Python.
#include <cstdint>
#include <vector>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/normalization.h"

namespace tg::python {

void bind_normalization(py::module_& module) {
  module.def("_batch_norm", [](TensorArgument input, OptionalTensor weight, OptionalTensor bias, py::handle running_mean,
                               py::handle running_var, bool training, double momentum, double eps) {
    const char* op = "batch_norm";
    const Tensor x = to_tensor(input, op, "input");
    const Tensor w = to_optional_tensor(weight, op, "weight"), b = to_optional_tensor(bias, op, "bias");
    const Tensor mean = to_optional_tensor(running_mean, op, "running_mean");
    const Tensor var = to_optional_tensor(running_var, op, "running_var");
    return run_releasing_gil(x.numel(), [&] { return batch_norm(x, w, b, mean, var, training, momentum, eps); });
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"), py::arg("running_var"),
     py::arg("training"), py::arg("momentum"), py::arg("eps"));
  module.def("_layer_norm", [](TensorArgument input, const std::vector<int64_t>& normalized_shape, OptionalTensor weight,
                               OptionalTensor bias, double eps) {
    const char* op = "layer_norm";
    const Tensor x = to_tensor(input, op, "input");
    const Tensor w = to_optional_tensor(weight, op, "weight"), b = to_optional_tensor(bias, op, "bias");
    const DimVector shape(normalized_shape.begin(), normalized_shape.end());
    return run_releasing_gil(x.numel(), [&] { return layer_norm(x, shape, w, b, eps); });
  }, py::arg("input"), py::arg("normalized_shape"), py::arg("weight"), py::arg("bias"), py::arg("eps"));
  module.def("_group_norm", [](TensorArgument input, int64_t num_groups, OptionalTensor weight, OptionalTensor bias, double eps) {
    const char* op = "group_norm";
    const Tensor x = to_tensor(input, op, "input");
    const Tensor w = to_optional_tensor(weight, op, "weight"), b = to_optional_tensor(bias, op, "bias");
    return run_releasing_gil(x.numel(), [&] { return group_norm(x, num_groups, w, b, eps); });
  }, py::arg("input"), py::arg("num_groups"), py::arg("weight"), py::arg("bias"), py::arg("eps"));
}

}  // namespace tg::python
