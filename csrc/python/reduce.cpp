// Reductions as methods and functions.
#include "bindings.h"
#include "tapegrad/ops/reduce.h"

namespace tg::python {

namespace {
DimVector dims_argument(py::handle dim, const char* op) { return dim.is_none() ? DimVector{} : to_shape(dim, op); }
}  // namespace

void bind_reduce(py::module_& module, TensorClass& tensor) {
  auto sum_function = [](const Tensor& self, py::handle dim, bool keepdim, py::handle dtype) {
    std::optional<DType> out_dtype;
    if (!dtype.is_none()) out_dtype = to_dtype(dtype, "sum");
    return sum(self, dims_argument(dim, "sum"), keepdim, out_dtype);
  };
  tensor.def("sum", sum_function, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  module.def("sum", sum_function, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  auto mean_function = [](const Tensor& self, py::handle dim, bool keepdim) { return mean(self, dims_argument(dim, "mean"), keepdim); };
  tensor.def("mean", mean_function, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  module.def("mean", mean_function, py::arg("input"), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  module.def("sum_to", [](const Tensor& grad, py::handle shape) { return sum_to(grad, to_shape(shape, "sum_to")); });
}

}  // namespace tg::python
