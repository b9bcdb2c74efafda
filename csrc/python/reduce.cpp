// Reductions and the softmax family as methods and functions.
#include "bindings.h"
#include "tapegrad/ops/activation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"

namespace tg::python {

namespace {

DimVector dims_argument(py::handle dim, const char* op) { return dim.is_none() ? DimVector{} : to_shape(dim, op); }

int64_t dim_argument(py::handle dim, const char* op) {
  TG_CHECK_TYPE(PyLong_Check(dim.ptr()) && !PyBool_Check(dim.ptr()), "[", op, "] dim must be an int, got ",
                py::str(py::type::of(dim).attr("__name__")).cast<std::string>());
  return dim.cast<int64_t>();
}

std::optional<DType> dtype_argument(py::handle dtype, const char* op) {
  if (dtype.is_none()) return std::nullopt;
  return to_dtype(dtype, op);
}

// unbiased= (bool) and correction= (number) are two spellings of one argument, as in PyTorch.
double correction_argument(py::handle unbiased, py::handle correction, const char* op) {
  TG_CHECK_TYPE(unbiased.is_none() || correction.is_none(), "[", op, "] takes unbiased= or correction=, not both");
  if (!unbiased.is_none()) return unbiased.cast<bool>() ? 1.0 : 0.0;
  return correction.is_none() ? 1.0 : to_scalar(correction, op).to_double();
}

}  // namespace

void bind_reduce(py::module_& module, TensorClass& tensor) {
  // Binds f as the method tensor.name and the function module.name(input, ...).
  auto both = [&](const char* name, auto function, auto... args) {
    tensor.def(name, function, args...);
    module.def(name, function, py::arg("input"), args...);
  };

  auto sum_function = [](const Tensor& self, py::handle dim, bool keepdim, py::handle dtype) {
    const DimVector dims = dims_argument(dim, "sum");
    const std::optional<DType> out_dtype = dtype_argument(dtype, "sum");
    return run_releasing_gil(may_release_gil(self.numel(), {&self}), [&] { return sum(self, dims, keepdim, out_dtype); });
  };
  both("sum", sum_function, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  auto prod_function = [](const Tensor& self, py::handle dim, bool keepdim, py::handle dtype) {
    return prod(self, dims_argument(dim, "prod"), keepdim, dtype_argument(dtype, "prod"));
  };
  both("prod", prod_function, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  both("mean", [](const Tensor& self, py::handle dim, bool keepdim) { return mean(self, dims_argument(dim, "mean"), keepdim); },
       py::arg("dim") = py::none(), py::arg("keepdim") = false);
  both("amax", [](const Tensor& self, py::handle dim, bool keepdim) { return amax(self, dims_argument(dim, "amax"), keepdim); },
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  both("amin", [](const Tensor& self, py::handle dim, bool keepdim) { return amin(self, dims_argument(dim, "amin"), keepdim); },
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  both("logsumexp", [](const Tensor& self, py::handle dim, bool keepdim) {
    return logsumexp(self, dims_argument(dim, "logsumexp"), keepdim);
  }, py::arg("dim"), py::arg("keepdim") = false);
  both("all", [](const Tensor& self, py::handle dim, bool keepdim) { return all(self, dims_argument(dim, "all"), keepdim); },
       py::arg("dim") = py::none(), py::arg("keepdim") = false);
  both("any", [](const Tensor& self, py::handle dim, bool keepdim) { return any(self, dims_argument(dim, "any"), keepdim); },
       py::arg("dim") = py::none(), py::arg("keepdim") = false);

  using VarFn = Tensor (*)(const Tensor&, const DimVector&, double, bool);
  for (auto [name, function] : {std::pair{"var", static_cast<VarFn>(var)}, std::pair{"std", static_cast<VarFn>(std)}}) {
    both(name, [name = name, function = function](const Tensor& self, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
      // var(True) is var(unbiased=True), as PyTorch's overload.
      if (PyBool_Check(dim.ptr())) return function(self, {}, correction_argument(dim, correction, name), keepdim);
      return function(self, dims_argument(dim, name), correction_argument(unbiased, correction, name), keepdim);
    }, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
       py::arg("correction") = py::none());
  }

  // max/min: no argument -> the value; a dim -> (values, indices); a tensor -> maximum/minimum.
  for (bool is_max : {true, false}) {
    const char* name = is_max ? "max" : "min";
    py::object result_type = py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"));
    module.attr(is_max ? "_MaxResult" : "_MinResult") = result_type;
    py::handle result_handle = result_type;  // kept alive by the module attribute
    both(name, [is_max, name, result_handle](const Tensor& self, py::handle dim, bool keepdim) -> py::object {
      if (dim.is_none()) return py::cast(is_max ? max(self) : min(self));
      if (is_tensor(dim)) return py::cast(is_max ? maximum(self, as_tensor(dim)) : minimum(self, as_tensor(dim)));
      const ValuesIndices result = is_max ? max(self, dim_argument(dim, name), keepdim) : min(self, dim_argument(dim, name), keepdim);
      return result_handle(result.values, result.indices);
    }, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }
  both("argmax", [](const Tensor& self, py::handle dim, bool keepdim) {
    return argmax(self, dim.is_none() ? std::nullopt : std::optional<int64_t>(dim_argument(dim, "argmax")), keepdim);
  }, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  both("argmin", [](const Tensor& self, py::handle dim, bool keepdim) {
    return argmin(self, dim.is_none() ? std::nullopt : std::optional<int64_t>(dim_argument(dim, "argmin")), keepdim);
  }, py::arg("dim") = py::none(), py::arg("keepdim") = false);

  both("softmax", [](const Tensor& self, py::handle dim, py::handle dtype) {
    const int64_t axis = dim_argument(dim, "softmax");
    const std::optional<DType> out_dtype = dtype_argument(dtype, "softmax");
    return run_releasing_gil(may_release_gil(self.numel(), {&self}), [&] { return softmax(self, axis, out_dtype); });
  }, py::arg("dim"), py::arg("dtype") = py::none());
  both("log_softmax", [](const Tensor& self, py::handle dim, py::handle dtype) {
    const int64_t axis = dim_argument(dim, "log_softmax");
    const std::optional<DType> out_dtype = dtype_argument(dtype, "log_softmax");
    return run_releasing_gil(may_release_gil(self.numel(), {&self}),
                             [&] { return log_softmax(self, axis, out_dtype); });
  }, py::arg("dim"), py::arg("dtype") = py::none());
  module.def("_softmax_backward_data", softmax_backward_data, py::arg("grad"), py::arg("output"), py::arg("dim"));
  module.def("_log_softmax_backward_data", log_softmax_backward_data, py::arg("grad"), py::arg("output"), py::arg("dim"));

  module.def("sum_to", [](const Tensor& grad, py::handle shape) { return sum_to(grad, to_shape(shape, "sum_to")); });
}

}  // namespace tg::python
