// View ops as methods and functions.
#include "bindings.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/view.h"

namespace tg::python {

void bind_view(py::module_& module, TensorClass& tensor) {
  tensor.def("view", [](const Tensor& self, py::args shape) {
    // view(dtype) reinterprets bytes in PyTorch; only the shape form is supported.
    TG_CHECK_TYPE(!(shape.size() == 1 && !PyLong_Check(shape[0].ptr()) && !PyTuple_Check(shape[0].ptr()) &&
                    !PyList_Check(shape[0].ptr()) && !is_tensor(shape[0])),
                  "[view] expected a shape; view(dtype) is not supported");
    return view(self, to_shape(shape, "view"));
  });
  // reshape copies what it cannot view; a contiguous tensor it always views.
  // Ops that view when they can release the GIL only when they may copy.
  auto reshaping = [](const Tensor& self, const DimVector& shape) {
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return reshape(self, shape); });
  };
  tensor.def("reshape", [=](const Tensor& self, py::args shape) { return reshaping(self, to_shape(shape, "reshape")); });
  module.def("reshape", [=](const Tensor& self, py::handle shape) { return reshaping(self, to_shape(shape, "reshape")); });
  tensor.def("view_as", [](const Tensor& self, const Tensor& other) { return view(self, other.sizes()); });
  tensor.def("reshape_as", [=](const Tensor& self, const Tensor& other) { return reshaping(self, other.sizes()); });
  for (const char* name : {"transpose", "swapaxes", "swapdims"}) {
    tensor.def(name, &transpose, py::arg("dim0"), py::arg("dim1"));
    module.def(name, &transpose, py::arg("input"), py::arg("dim0"), py::arg("dim1"));
  }
  tensor.def("t", &t);
  module.def("t", &t);
  tensor.def_property_readonly("T", [](const Tensor& self) {
    DimVector reversed(self.sizes().size());
    for (size_t i = 0; i < reversed.size(); ++i) reversed[i] = static_cast<int64_t>(reversed.size() - 1 - i);
    return permute(self, reversed);
  });
  tensor.def_property_readonly("mT", [](const Tensor& self) { return transpose(self, -2, -1); });
  tensor.def("permute", [](const Tensor& self, py::args dims) { return permute(self, to_shape(dims, "permute")); });
  module.def("permute", [](const Tensor& self, py::handle dims) { return permute(self, to_shape(dims, "permute")); });
  auto squeeze_function = [](const Tensor& self, py::handle dim) {
    if (dim.is_none()) return squeeze(self);
    return squeeze(self, to_shape(dim, "squeeze"));
  };
  tensor.def("squeeze", squeeze_function, py::arg("dim") = py::none());
  module.def("squeeze", squeeze_function, py::arg("input"), py::arg("dim") = py::none());
  tensor.def("unsqueeze", &unsqueeze, py::arg("dim"));
  module.def("unsqueeze", &unsqueeze, py::arg("input"), py::arg("dim"));
  tensor.def("expand", [](const Tensor& self, py::args sizes) { return expand(self, to_shape(sizes, "expand")); });
  tensor.def("expand_as", [](const Tensor& self, const Tensor& other) { return expand(self, other.sizes()); });
  module.def("broadcast_to", [](const Tensor& self, py::handle sizes) { return expand(self, to_shape(sizes, "broadcast_to")); });
  tensor.def("broadcast_to", [](const Tensor& self, py::handle sizes) { return expand(self, to_shape(sizes, "broadcast_to")); });
  auto flattening = [](const Tensor& self, int64_t start_dim, int64_t end_dim) {
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return flatten(self, start_dim, end_dim); });
  };
  tensor.def("flatten", flattening, py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  module.def("flatten", flattening, py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  tensor.def("narrow", &narrow, py::arg("dim"), py::arg("start"), py::arg("length"));
  module.def("narrow", &narrow, py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"));
  tensor.def("select", &select, py::arg("dim"), py::arg("index"));
  module.def("select", &select, py::arg("input"), py::arg("dim"), py::arg("index"));
  tensor.def("as_strided", [](const Tensor& self, py::handle sizes, py::handle strides, py::object offset) {
    return as_strided(self, to_shape(sizes, "as_strided"), to_shape(strides, "as_strided"),
                      offset.is_none() ? self.storage_offset() : offset.cast<int64_t>());
  }, py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none());

  tensor.def("contiguous", [](const Tensor& self) {
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return contiguous(self); });
  });
  tensor.def("clone", releasing<clone>);
  module.def("clone", releasing<clone>);
}

}  // namespace tg::python
