// View ops as methods and functions.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/view.h"

namespace tg::python {

namespace {

// A shape given positionally (f(2, 3), f((2, 3))) or as a keyword (f(size=(2, 3))), not both.
DimVector shape_argument(const py::args& args, py::handle keyword, const char* op, const char* name) {
  if (keyword.is_none()) return to_shape(args, op);
  TG_CHECK_TYPE(args.empty(), op, "got the ", name, " both positionally and as ", name, "=");
  return to_shape(keyword, op);
}

}  // namespace

void bind_view(py::module_& module, TensorClass& tensor) {
  tensor.def("view", [](const Tensor& self, py::args shape, py::handle size) {
    // view(dtype) reinterprets bytes in PyTorch; only the shape form is supported.
    TG_CHECK_TYPE(!(shape.size() == 1 && is_dtype(shape[0])), "view", "view(dtype) is not supported; view takes a shape");
    return view(self, shape_argument(shape, size, "view", "size"));
  }, py::kw_only(), py::arg("size") = py::none(), docstring("view"));
  // reshape copies what it cannot view; a contiguous tensor it always views. Ops that view when
  // they can release the GIL only when they may copy.
  auto reshaping = [](const Tensor& self, const DimVector& shape) {
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return reshape(self, shape); });
  };
  tensor.def("reshape", [=](const Tensor& self, py::args shape, py::handle keyword) {
    return reshaping(self, shape_argument(shape, keyword, "reshape", "shape"));
  }, py::kw_only(), py::arg("shape") = py::none(), docstring("reshape"));
  module.def("reshape", checked("reshape", {"input"}, [=](const Tensor& self, py::handle shape) {
    return reshaping(self, to_shape(shape, "reshape"));
  }), py::arg("input"), py::arg("shape"), docstring("reshape"));
  tensor.def("view_as", checked("view_as", {"self", "other"}, [](const Tensor& self, const Tensor& other) {
    return view(self, other.sizes());
  }), py::arg("other"), docstring("view_as"));
  tensor.def("reshape_as", checked("reshape_as", {"self", "other"}, [=](const Tensor& self, const Tensor& other) {
    return reshaping(self, other.sizes());
  }), py::arg("other"), docstring("reshape_as"));
  for (const char* name : {"transpose", "swapaxes", "swapdims"}) {
    auto transpose_function = [name](const Tensor& self, Dim dim0, Dim dim1) {
      return transpose(self, to_dim(dim0, name), to_dim(dim1, name));
    };
    tensor.def(name, transpose_function, py::arg("dim0"), py::arg("dim1"), docstring(name));
    module.def(name, checked(name, {"input"}, transpose_function), py::arg("input"), py::arg("dim0"), py::arg("dim1"), docstring(name));
  }
  tensor.def("t", &t, docstring("t"));
  module.def("t", checked("t", {"input"}, &t), py::arg("input"), docstring("t"));
  tensor.def_property_readonly("T", [](const Tensor& self) {
    DimVector reversed(self.sizes().size());
    for (size_t i = 0; i < reversed.size(); ++i) reversed[i] = static_cast<int64_t>(reversed.size() - 1 - i);
    return permute(self, reversed);
  }, docstring("T"));
  tensor.def_property_readonly("mT", [](const Tensor& self) {
    if (self.dim() == 0) return self;  // as PyTorch, which deprecates it
    TG_CHECK(self.dim() >= 2, "mT", "tensor.mT is only supported on matrices or batches of matrices; got a ", self.dim(),
             "-D tensor");
    return transpose(self, -2, -1);
  }, docstring("mT"));
  tensor.def("permute", [](const Tensor& self, py::args dims, py::handle keyword) {
    return permute(self, keyword.is_none() ? to_dims(dims, "permute") : to_dims(keyword, "permute"));
  }, py::kw_only(), py::arg("dims") = py::none(), docstring("permute"));
  module.def("permute", checked("permute", {"input"}, [](const Tensor& self, py::handle dims) {
    return permute(self, to_dims(dims, "permute"));
  }), py::arg("input"), py::arg("dims"), docstring("permute"));
  auto squeeze_function = [](const Tensor& self, py::handle dim) {
    if (dim.is_none()) return squeeze(self);
    return squeeze(self, to_dims(dim, "squeeze"));
  };
  tensor.def("squeeze", squeeze_function, py::arg("dim") = py::none(), docstring("squeeze"));
  module.def("squeeze", checked("squeeze", {"input"}, squeeze_function), py::arg("input"), py::arg("dim") = py::none(), docstring("squeeze"));
  auto unsqueeze_function = [](const Tensor& self, Dim dim) { return unsqueeze(self, to_dim(dim, "unsqueeze")); };
  tensor.def("unsqueeze", unsqueeze_function, py::arg("dim"), docstring("unsqueeze"));
  module.def("unsqueeze", checked("unsqueeze", {"input"}, unsqueeze_function), py::arg("input"), py::arg("dim"), docstring("unsqueeze"));
  tensor.def("expand", [](const Tensor& self, py::args sizes, py::handle size) {
    return expand(self, shape_argument(sizes, size, "expand", "size"));
  }, py::kw_only(), py::arg("size") = py::none(), docstring("expand"));
  tensor.def("expand_as", checked("expand_as", {"self", "other"}, [](const Tensor& self, const Tensor& other) {
    return expand(self, other.sizes());
  }), py::arg("other"), docstring("expand_as"));
  auto broadcast_to_function = [](const Tensor& self, py::handle sizes) {
    return expand(self, to_shape(sizes, "broadcast_to"));
  };
  module.def("broadcast_to", checked("broadcast_to", {"input"}, broadcast_to_function), py::arg("input"),
             py::arg("size"), docstring("broadcast_to"));
  tensor.def("broadcast_to", broadcast_to_function, py::arg("size"), docstring("broadcast_to"));
  auto flatten_function = [](const Tensor& self, Dim start_dim, Dim end_dim) {
    const int64_t start = to_dim(start_dim, "flatten"), end = to_dim(end_dim, "flatten");
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return flatten(self, start, end); });
  };
  tensor.def("flatten", flatten_function, py::arg("start_dim") = 0, py::arg("end_dim") = -1, docstring("flatten"));
  module.def("flatten", checked("flatten", {"input"}, flatten_function), py::arg("input"), py::arg("start_dim") = 0, py::arg("end_dim") = -1, docstring("flatten"));
  auto narrow_function = [](const Tensor& self, Dim dim, Integer start, Integer length) {
    return narrow(self, to_dim(dim, "narrow"), to_int(start, "narrow", "start"), to_int(length, "narrow", "length"));
  };
  tensor.def("narrow", narrow_function, py::arg("dim"), py::arg("start"), py::arg("length"), docstring("narrow"));
  module.def("narrow", checked("narrow", {"input"}, narrow_function), py::arg("input"), py::arg("dim"), py::arg("start"), py::arg("length"), docstring("narrow"));
  auto select_function = [](const Tensor& self, Dim dim, Integer index) {
    return select(self, to_dim(dim, "select"), to_int(index, "select", "index"));
  };
  tensor.def("select", select_function, py::arg("dim"), py::arg("index"), docstring("select"));
  module.def("select", checked("select", {"input"}, select_function), py::arg("input"), py::arg("dim"), py::arg("index"), docstring("select"));
  tensor.def("as_strided", [](const Tensor& self, py::handle sizes, py::handle strides, Integer offset) {
    return as_strided(self, to_shape(sizes, "as_strided"), to_shape(strides, "as_strided"),
                      offset.is_none() ? self.storage_offset() : to_int(offset, "as_strided", "storage_offset"));
  }, py::arg("size"), py::arg("stride"), py::arg("storage_offset") = py::none(), docstring("as_strided"));

  tensor.def("contiguous", [](const Tensor& self) {
    return run_releasing_gil(self.is_contiguous() ? 0 : self.numel(), [&] { return contiguous(self); });
  }, docstring("contiguous"));
  // clone keeps a dense layout (a transposed tensor's clone is transposed), as PyTorch's
  // preserve_format does; contiguous() is the way to a row-major copy.
  auto clone_preserving = [](const Tensor& self) {
    return run_releasing_gil(self.numel(), [&] { return clone(self, MemoryFormat::Preserve); });
  };
  tensor.def("clone", clone_preserving, docstring("clone"));
  module.def("clone", checked("clone", {"input"}, clone_preserving), py::arg("input"), docstring("clone"));
}

}  // namespace tg::python
