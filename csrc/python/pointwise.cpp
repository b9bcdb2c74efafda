// The composed pointwise ops (ops/pointwise.h) as methods and functions.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/pointwise.h"

namespace tg::python {

namespace {

std::optional<double> optional_number(py::handle value, const char* op) {
  return value.is_none() ? std::nullopt : std::optional<double>(to_scalar(value, op).to_double());
}

// A tensor argument, or a number made into a 0-dim tensor of `like`'s dtype.
Tensor tensor_or_number(py::handle value, const Tensor& like, const char* op, const char* name) {
  if (is_scalar(value)) return scalar_tensor(to_scalar(value, op), like.dtype(), like.device());
  return to_tensor(value, op, name);
}

}  // namespace

void bind_pointwise(py::module_& module, TensorClass& tensor) {
  auto both = [&](const char* name, auto function, auto... args) {
    tensor.def(name, function, args..., docstring(name));
    module.def(name, checked(name, {"input"}, function), py::arg("input"), args..., docstring(name));
  };
  using UnaryFn = Tensor (*)(const Tensor&);
  for (auto [name, function] : {std::pair{"isnan", static_cast<UnaryFn>(isnan)}, std::pair{"isinf", static_cast<UnaryFn>(isinf)},
                                std::pair{"isfinite", static_cast<UnaryFn>(isfinite)}})
    both(name, [function = function](const Tensor& self) { return call_releasing_gil(function, self); });
  both("nan_to_num", [](const Tensor& self, py::handle nan, py::handle posinf, py::handle neginf) {
    return call_releasing_gil(nan_to_num, self, optional_number(nan, "nan_to_num"), optional_number(posinf, "nan_to_num"),
                              optional_number(neginf, "nan_to_num"));
  }, py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());
  using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
  for (auto [name, function] : {std::pair{"logical_and", static_cast<BinaryFn>(logical_and)},
                                std::pair{"logical_or", static_cast<BinaryFn>(logical_or)},
                                std::pair{"logical_xor", static_cast<BinaryFn>(logical_xor)}})
    both(name, [name = name, function = function](const Tensor& self, TensorOrNumber other) {
      return call_releasing_gil(function, self, to_tensor(other, name, "other"));
    }, py::arg("other"));
  both("lerp", [](const Tensor& self, py::handle end, py::handle weight) {
    const Tensor end_tensor = to_tensor(end, "lerp", "end");
    if (is_scalar(weight)) {
      using ScalarWeight = Tensor (*)(const Tensor&, const Tensor&, Scalar);
      return call_releasing_gil(static_cast<ScalarWeight>(lerp), self, end_tensor, to_scalar(weight, "lerp"));
    }
    using TensorWeight = Tensor (*)(const Tensor&, const Tensor&, const Tensor&);
    return call_releasing_gil(static_cast<TensorWeight>(lerp), self, end_tensor, to_tensor(weight, "lerp", "weight"));
  }, py::arg("end"), py::arg("weight"));
  tensor.def("lerp_", [](Tensor& self, py::handle end, py::handle weight) -> Tensor& {
    const Tensor end_tensor = to_tensor(end, "lerp_", "end");
    if (is_scalar(weight)) {
      using ScalarWeight = Tensor& (*)(Tensor&, const Tensor&, Scalar);
      return call_releasing_gil(static_cast<ScalarWeight>(lerp_), self, end_tensor, to_scalar(weight, "lerp_"));
    }
    using TensorWeight = Tensor& (*)(Tensor&, const Tensor&, const Tensor&);
    return call_releasing_gil(static_cast<TensorWeight>(lerp_), self, end_tensor, to_tensor(weight, "lerp_", "weight"));
  }, py::arg("end"), py::arg("weight"), docstring("lerp_"));
  using AddcInPlaceFn = Tensor& (*)(Tensor&, const Tensor&, const Tensor&, Scalar);
  for (auto [name, function] : {std::pair{"addcmul_", static_cast<AddcInPlaceFn>(addcmul_)},
                                std::pair{"addcdiv_", static_cast<AddcInPlaceFn>(addcdiv_)}})
    tensor.def(name, [name = name, function = function](Tensor& self, py::handle a, py::handle b, py::handle value) -> Tensor& {
      return call_releasing_gil(function, self, tensor_or_number(a, self, name, "tensor1"),
                                tensor_or_number(b, self, name, "tensor2"), to_scalar(value, name));
    }, py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1, docstring(name));
  using AddcFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&, Scalar);
  for (auto [name, function] : {std::pair{"addcmul", static_cast<AddcFn>(addcmul)}, std::pair{"addcdiv", static_cast<AddcFn>(addcdiv)}})
    both(name, [name = name, function = function](const Tensor& self, py::handle a, py::handle b, py::handle value) {
      return call_releasing_gil(function, self, tensor_or_number(a, self, name, "tensor1"),
                                tensor_or_number(b, self, name, "tensor2"), to_scalar(value, name));
    }, py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1);
}

}  // namespace tg::python
