// The rearranging ops (ops/shape.h) as methods and functions.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/shape.h"

namespace tg::python {

namespace {

std::vector<Tensor> tensor_sequence(py::handle sequence, const char* op) {
  TG_CHECK_TYPE(PyTuple_Check(sequence.ptr()) || PyList_Check(sequence.ptr()), op,
                "expected a tuple or list of tensors, got ", type_name(sequence));
  return to_tensors(sequence, op);
}

py::tuple to_python_tuple(const std::vector<Tensor>& tensors) {
  py::tuple tuple(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) tuple[i] = py::cast(tensors[i]);
  return tuple;
}

std::optional<int64_t> optional_dim(py::handle dim, const char* op) {
  return dim.is_none() ? std::nullopt : std::optional<int64_t>(to_dim(dim, op));
}

}  // namespace

void bind_shape(py::module_& module, TensorClass& tensor) {
  auto both = [&](const char* name, auto function, auto... args) {
    tensor.def(name, function, args..., docstring(name));
    module.def(name, checked(name, {"input"}, function), py::arg("input"), args..., docstring(name));
  };

  tensor.def("flip", [](const Tensor& self, py::args dims, py::handle keyword) {
    return call_releasing_gil(flip, self, keyword.is_none() ? to_dims(dims, "flip") : to_dims(keyword, "flip"));
  }, py::kw_only(), py::arg("dims") = py::none(), docstring("flip"));
  module.def("flip", checked("flip", {"input"}, [](const Tensor& self, py::handle dims) {
    return call_releasing_gil(flip, self, to_dims(dims, "flip"));
  }), py::arg("input"), py::arg("dims"), docstring("flip"));
  both("fliplr", [](const Tensor& self) {
    TG_CHECK(self.dim() >= 2, "fliplr", "input must be >= 2-d, got shape ", self.sizes());
    return call_releasing_gil(flip, self, DimVector{1});
  });
  both("flipud", [](const Tensor& self) {
    TG_CHECK(self.dim() >= 1, "flipud", "input must be >= 1-d, got shape ", self.sizes());
    return call_releasing_gil(flip, self, DimVector{0});
  });
  both("roll", [](const Tensor& self, py::handle shifts, py::handle dims) {
    return call_releasing_gil(roll, self, to_dims(shifts, "roll"), dims.is_none() ? DimVector{} : to_dims(dims, "roll"));
  }, py::arg("shifts"), py::arg("dims") = py::none());

  tensor.def("repeat", [](const Tensor& self, py::args repeats) {
    return call_releasing_gil(repeat, self, to_shape(repeats, "repeat"));
  }, docstring("repeat"));
  tensor.def("tile", [](const Tensor& self, py::args repeats) {
    return call_releasing_gil(tile, self, to_shape(repeats, "tile"));
  }, docstring("tile"));
  module.def("tile", checked("tile", {"input"}, [](const Tensor& self, py::handle dims) {
    return call_releasing_gil(tile, self, to_shape(dims, "tile"));
  }), py::arg("input"), py::arg("dims"), docstring("tile"));
  auto repeat_interleave_function = [](const Tensor& self, py::handle repeats, py::handle dim) {
    const std::optional<int64_t> axis = optional_dim(dim, "repeat_interleave");
    if (is_tensor(repeats)) {
      using TensorRepeats = Tensor (*)(const Tensor&, const Tensor&, std::optional<int64_t>);
      return call_releasing_gil(static_cast<TensorRepeats>(repeat_interleave), self, as_tensor(repeats), axis);
    }
    using IntRepeats = Tensor (*)(const Tensor&, int64_t, std::optional<int64_t>);
    return call_releasing_gil(static_cast<IntRepeats>(repeat_interleave), self,
                              to_int(repeats, "repeat_interleave", "repeats"), axis);
  };
  tensor.def("repeat_interleave", repeat_interleave_function, py::arg("repeats"), py::arg("dim") = py::none(),
             docstring("repeat_interleave"));
  module.def("repeat_interleave", [=](TensorArgument input, TensorOrNumber repeats, OptionalInteger dim) {
    // repeat_interleave(repeats): the positions of a tensor of counts, each repeated.
    if (repeats.is_none()) {
      using CountsOnly = Tensor (*)(const Tensor&);
      return static_cast<CountsOnly>(repeat_interleave)(to_tensor(input, "repeat_interleave", "repeats"));
    }
    return repeat_interleave_function(to_tensor(input, "repeat_interleave", "input"), repeats, dim);
  }, py::arg("input"), py::arg("repeats") = py::none(), py::arg("dim") = py::none(), docstring("repeat_interleave"));

  both("tril", [](const Tensor& self, int64_t diagonal) { return call_releasing_gil(tril, self, diagonal); },
       py::arg("diagonal") = 0);
  both("triu", [](const Tensor& self, int64_t diagonal) { return call_releasing_gil(triu, self, diagonal); },
       py::arg("diagonal") = 0);
  both("diag", [](const Tensor& self, int64_t diagonal) { return call_releasing_gil(diag, self, diagonal); },
       py::arg("diagonal") = 0);

  both("unbind", [](const Tensor& self, Dim dim) { return to_python_tuple(unbind(self, to_dim(dim, "unbind"))); },
       py::arg("dim") = 0);
  both("unflatten", [](const Tensor& self, Dim dim, py::handle sizes) {
    return unflatten(self, to_dim(dim, "unflatten"), to_shape(sizes, "unflatten"));
  }, py::arg("dim"), py::arg("sizes"));
  for (const char* name : {"movedim", "moveaxis"}) {
    both(name, [name](const Tensor& self, py::handle source, py::handle destination) {
      return movedim(self, to_dims(source, name), to_dims(destination, name));
    }, py::arg("source"), py::arg("destination"));
  }

  using StackFn = Tensor (*)(const std::vector<Tensor>&);
  for (auto [name, function] : {std::pair{"hstack", static_cast<StackFn>(hstack)}, std::pair{"vstack", static_cast<StackFn>(vstack)},
                                std::pair{"dstack", static_cast<StackFn>(dstack)},
                                std::pair{"column_stack", static_cast<StackFn>(column_stack)}}) {
    module.def(name, [name = name, function = function](py::handle tensors) {
      return call_releasing_gil(function, tensor_sequence(tensors, name));
    }, py::arg("tensors"), docstring(name));
  }
  module.def("meshgrid", [](py::args tensors, py::handle indexing) {
    // meshgrid(a, b) or meshgrid([a, b]); PyTorch's default indexing is "ij".
    const bool one_sequence = tensors.size() == 1 && !is_tensor(tensors[0]);
    const std::vector<Tensor> inputs = one_sequence ? tensor_sequence(tensors[0], "meshgrid") : to_tensors(tensors, "meshgrid");
    const std::string mode = indexing.is_none() ? "ij" : indexing.cast<std::string>();
    return to_python_tuple(meshgrid(inputs, mode));
  }, py::kw_only(), py::arg("indexing") = py::none(), docstring("meshgrid"));
}

}  // namespace tg::python
