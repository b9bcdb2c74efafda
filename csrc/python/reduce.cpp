// Reductions and the softmax family as methods and functions.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/activation.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/reduce.h"

namespace tg::python {

namespace {

DimVector dims_argument(py::handle dim, const char* op) { return dim.is_none() ? DimVector{} : to_dims(dim, op); }

std::optional<DType> dtype_argument(py::handle dtype, const char* op) {
  if (dtype.is_none()) return std::nullopt;
  return to_dtype(dtype, op);
}

// unbiased= (bool) and correction= (number) are two spellings of one argument, as in PyTorch.
double correction_argument(py::handle unbiased, py::handle correction, const char* op) {
  TG_CHECK_TYPE(unbiased.is_none() || correction.is_none(), op, "takes unbiased= or correction=, not both");
  if (!unbiased.is_none()) return unbiased.cast<bool>() ? 1.0 : 0.0;
  return correction.is_none() ? 1.0 : to_scalar(correction, op).to_double();
}

}  // namespace

void bind_reduce(py::module_& module, TensorClass& tensor) {
  // Binds f as the method tensor.name and the function module.name(input, ...).
  auto both = [&](const char* name, auto function, auto... args) {
    tensor.def(name, function, args..., docstring(name));
    module.def(name, checked(name, {"input"}, function), py::arg("input"), args..., docstring(name));
  };
  using DimsFn = Tensor (*)(const Tensor&, const DimVector&, bool);
  using DimsDTypeFn = Tensor (*)(const Tensor&, const DimVector&, bool, std::optional<DType>);

  for (auto [name, function] : {std::pair{"sum", static_cast<DimsDTypeFn>(sum)},
                                std::pair{"prod", static_cast<DimsDTypeFn>(prod)},
                                std::pair{"mean", static_cast<DimsDTypeFn>(mean)}}) {
    both(name, [name = name, function = function](const Tensor& self, py::handle dim, bool keepdim, DTypeArgument dtype) {
      return call_releasing_gil(function, self, dims_argument(dim, name), keepdim, dtype_argument(dtype, name));
    }, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  }
  auto dim_reduction = [](const char* name, DimsFn function) {
    return [name, function](const Tensor& self, py::handle dim, bool keepdim) {
      return call_releasing_gil(function, self, dims_argument(dim, name), keepdim);
    };
  };
  // As PyTorch: amax/amin default to every dim, all/any take dim=None, logsumexp needs its dim.
  for (auto [name, function] : {std::pair{"amax", static_cast<DimsFn>(amax)}, std::pair{"amin", static_cast<DimsFn>(amin)}})
    both(name, dim_reduction(name, function), py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  for (auto [name, function] : {std::pair{"all", static_cast<DimsFn>(all)}, std::pair{"any", static_cast<DimsFn>(any)}})
    both(name, dim_reduction(name, function), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  both("logsumexp", dim_reduction("logsumexp", logsumexp), py::arg("dim"), py::arg("keepdim") = false);

  using VarFn = Tensor (*)(const Tensor&, const DimVector&, double, bool);
  for (auto [name, function] : {std::pair{"var", static_cast<VarFn>(var)}, std::pair{"std", static_cast<VarFn>(std)}}) {
    both(name, [name = name, function = function](const Tensor& self, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
      // var(True) is var(unbiased=True), as PyTorch's overload.
      if (PyBool_Check(dim.ptr()))
        return call_releasing_gil(function, self, DimVector{}, correction_argument(dim, correction, name), keepdim);
      return call_releasing_gil(function, self, dims_argument(dim, name), correction_argument(unbiased, correction, name), keepdim);
    }, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
       py::arg("correction") = py::none());
  }

  // max/min: no argument -> the value; a dim -> (values, indices); a tensor -> maximum/minimum.
  for (bool is_max : {true, false}) {
    const char* name = is_max ? "max" : "min";
    const py::handle result_handle = values_indices_type(module, name, is_max ? "_MaxResult" : "_MinResult");
    using WholeFn = Tensor (*)(const Tensor&);
    using PairFn = Tensor (*)(const Tensor&, const Tensor&);
    using DimFn = ValuesIndices (*)(const Tensor&, int64_t, bool);
    const WholeFn whole = is_max ? static_cast<WholeFn>(max) : static_cast<WholeFn>(min);
    const PairFn elementwise = is_max ? maximum : minimum;
    const DimFn along = is_max ? static_cast<DimFn>(max) : static_cast<DimFn>(min);
    both(name, [=](const Tensor& self, DimOrTensor dim, bool keepdim) -> py::object {
      if (dim.is_none()) return py::cast(call_releasing_gil(whole, self));
      if (is_tensor(dim)) return py::cast(call_releasing_gil(elementwise, self, as_tensor(dim)));
      const ValuesIndices result = call_releasing_gil(along, self, to_dim(dim, name), keepdim);
      return result_handle(result.values, result.indices);
    }, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }
  using ArgFn = Tensor (*)(const Tensor&, std::optional<int64_t>, bool);
  for (auto [name, function] : {std::pair{"argmax", static_cast<ArgFn>(argmax)},
                                std::pair{"argmin", static_cast<ArgFn>(argmin)}}) {
    both(name, [name = name, function = function](const Tensor& self, OptionalInteger dim, bool keepdim) {
      const std::optional<int64_t> axis = dim.is_none() ? std::nullopt : std::optional<int64_t>(to_dim(dim, name));
      return call_releasing_gil(function, self, axis, keepdim);
    }, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  }

  using SoftmaxFn = Tensor (*)(const Tensor&, int64_t, std::optional<DType>);
  for (auto [name, function] : {std::pair{"softmax", static_cast<SoftmaxFn>(softmax)},
                                std::pair{"log_softmax", static_cast<SoftmaxFn>(log_softmax)}}) {
    both(name, [name = name, function = function](const Tensor& self, Dim dim, DTypeArgument dtype) {
      return call_releasing_gil(function, self, to_dim(dim, name), dtype_argument(dtype, name));
    }, py::arg("dim"), py::arg("dtype") = py::none());
  }
  for (auto [name, function] : {std::pair{"_softmax_backward_data", releasing<softmax_backward_data>},
                                std::pair{"_log_softmax_backward_data", releasing<log_softmax_backward_data>}})
    module.def(name, checked(name, {"grad", "output"}, function), py::arg("grad"), py::arg("output"),
               py::arg("dim"), docstring(name));

  // p: a number, "fro" (the 2-norm of the elements) or None (2); every norm here is a vector norm.
  both("norm", [](const Tensor& self, py::handle p, py::handle dim, bool keepdim, DTypeArgument dtype) {
    double order = 2.0;
    if (py::isinstance<py::str>(p)) {
      const std::string name = p.cast<std::string>();
      TG_CHECK_VALUE(name == "fro", "norm", "p=\"", name, "\" is not supported (only numbers and \"fro\")");
    } else if (!p.is_none()) {
      order = to_scalar(p, "norm").to_double();
    }
    const std::optional<DType> out_dtype = dtype_argument(dtype, "norm");
    const Tensor input = out_dtype ? to_dtype(self, *out_dtype) : self;
    return call_releasing_gil(norm, input, order, dims_argument(dim, "norm"), keepdim);
  }, py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
     py::arg("dtype") = py::none());

  module.def("sum_to", checked("sum_to", {"grad"}, [](const Tensor& grad, py::handle shape) {
    return call_releasing_gil(sum_to, grad, to_shape(shape, "sum_to"));
  }), py::arg("grad"), py::arg("shape"), docstring("sum_to"));
}

}  // namespace tg::python
