// Elementwise ops as methods, operators (with reflected forms) and module functions.
#include "arguments.h"
#include "bindings.h"
#include "fast_methods.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"

namespace tg::python {

namespace {

using TensorFn = Tensor (*)(const Tensor&, const Tensor&);
using ScalarFn = Tensor (*)(const Tensor&, Scalar);

// The Python operator protocol: an operand we don't understand gives NotImplemented, so Python
// can try the other operand's reflected method (and then raise its own TypeError).
template <typename WithTensor, typename WithScalar>
py::object binary_operator(const Tensor& self, py::handle other, WithTensor with_tensor, WithScalar with_scalar,
                           const char* op) {
  if (is_tensor(other)) return py::cast(call_releasing_gil(with_tensor, self, as_tensor(other)));
  if (is_scalar(other)) return py::cast(call_releasing_gil(with_scalar, self, to_scalar(other, op)));
  return py::reinterpret_borrow<py::object>(Py_NotImplemented);
}

// Methods and functions raise TypeError for a bad operand instead.
template <typename WithTensor, typename WithScalar>
Tensor binary_strict(const Tensor& self, py::handle other, WithTensor with_tensor, WithScalar with_scalar, const char* op) {
  if (is_tensor(other)) return call_releasing_gil(with_tensor, self, as_tensor(other));
  if (is_scalar(other)) return call_releasing_gil(with_scalar, self, to_scalar(other, op));
  fail<TypeError>(op, "expected a tensor or a number, got ", type_name(other));
}

// ---- fast operator slots -------------------------------------------------------------------
// `a + b` is the unit of per-op overhead, so the four arithmetic operators have fast paths (see
// fast_methods.h) in front of their bound __add__ etc.

template <Tensor (*WithTensor)(const Tensor&, const Tensor&), Tensor (*WithScalar)(const Tensor&, Scalar),
          Tensor (*ScalarFirst)(const Tensor&, Scalar)>
PyObject* number_slot(PyObject* left, PyObject* right) {
  Tensor a, b;
  const bool left_is_tensor = unwrap_tensor(left, a);
  const bool right_is_tensor = unwrap_tensor(right, b);
  if (!(left_is_tensor && right_is_tensor) && !(left_is_tensor && is_scalar(right)) &&
      !(right_is_tensor && is_scalar(left)))
    Py_RETURN_NOTIMPLEMENTED;
  return fast_result([&] {
    if (left_is_tensor && right_is_tensor) return call_releasing_gil(WithTensor, a, b);
    if (left_is_tensor) return call_releasing_gil(WithScalar, a, to_scalar(right, "operator"));
    return call_releasing_gil(ScalarFirst, b, to_scalar(left, "operator"));
  });
}

Tensor add_scalar(const Tensor& a, Scalar b) { return add(a, b); }
Tensor sub_scalar(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor mul_scalar(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor div_scalar(const Tensor& a, Scalar b) { return div(a, b); }
Tensor add_tensors(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor sub_tensors(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor div_tensors(const Tensor& a, const Tensor& b) { return div(a, b); }

std::optional<Scalar> optional_scalar(py::handle object, const char* op) {
  if (object.is_none()) return std::nullopt;
  return to_scalar(object, op);
}

RoundingMode to_rounding_mode(py::handle mode) {
  if (mode.is_none()) return RoundingMode::None;
  const std::string name = py::str(mode).cast<std::string>();
  if (py::isinstance<py::str>(mode) && name == "trunc") return RoundingMode::Trunc;
  if (py::isinstance<py::str>(mode) && name == "floor") return RoundingMode::Floor;
  fail<Error>("div", "expected rounding_mode to be one of None, 'trunc', or 'floor' but found '", name, "'");
}

// clamp's bound beside a tensor bound: a tensor, None (undefined), or a number as a 0-dim tensor
// (its dtype the one PyTorch gives the number alone, so promotion treats it as a wrapped number).
Tensor bound_tensor(py::handle bound, const Tensor& like, const char* op) {
  if (bound.is_none()) return Tensor();
  if (is_tensor(bound)) return as_tensor(bound);
  const Scalar value = to_scalar(bound, op);
  return scalar_tensor(value, value.default_dtype_for(), like.device());
}

using TensorBoundsFn = Tensor (*)(const Tensor&, const Tensor&, const Tensor&);
using ScalarBoundsFn = Tensor (*)(const Tensor&, std::optional<Scalar>, std::optional<Scalar>);

Tensor clamp_with(const Tensor& self, py::handle min, py::handle max, const char* op) {
  if (is_tensor(min) || is_tensor(max))
    return call_releasing_gil(static_cast<TensorBoundsFn>(clamp), self, bound_tensor(min, self, op),
                              bound_tensor(max, self, op));
  return call_releasing_gil(static_cast<ScalarBoundsFn>(clamp), self, optional_scalar(min, op),
                            optional_scalar(max, op));
}

// Binds __name__ and __rname__ for an arithmetic operator: `reflected(self, number)` is number op self.
template <typename WithTensor, typename WithScalar, typename Reflected>
void bind_operator(TensorClass& tensor, const char* name, WithTensor with_tensor, WithScalar with_scalar,
                   Reflected reflected) {
  const std::string dunder = std::string("__") + name + "__";
  const std::string reflected_dunder = std::string("__r") + name + "__";
  tensor.def(dunder.c_str(), [=](const Tensor& self, TensorOrNumber other) {
    return binary_operator(self, other, with_tensor, with_scalar, name);
  }, py::is_operator(), docstring(dunder));
  tensor.def(reflected_dunder.c_str(), [=](const Tensor& self, TensorOrNumber other) -> py::object {
    if (is_scalar(other)) return py::cast(call_releasing_gil(reflected, self, to_scalar(other, name)));
    if (is_tensor(other)) return py::cast(call_releasing_gil(with_tensor, as_tensor(other), self));
    return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  }, py::is_operator(), docstring(reflected_dunder));
}

}  // namespace

void bind_elementwise(py::module_& module, TensorClass& tensor) {
  // Binds f as the method tensor.name(other, ...) and the function module.name(input, other, ...).
  auto both = [&](const char* name, auto function, auto... extra) {
    tensor.def(name, checked(name, {"input", "other"}, function), py::arg("other"), extra..., docstring(name));
    module.def(name, checked(name, {"input", "other"}, function), py::arg("input"), py::arg("other"), extra..., docstring(name));
  };

  // ---- arithmetic ----
  bind_operator(tensor, "add", add_tensors, add_scalar, add_scalar);
  bind_operator(tensor, "sub", sub_tensors, sub_scalar, rsub);
  bind_operator(tensor, "mul", static_cast<TensorFn>(mul), mul_scalar, mul_scalar);
  bind_operator(tensor, "truediv", div_tensors, div_scalar, rdiv);
  bind_operator(tensor, "pow", static_cast<TensorFn>(pow), static_cast<ScalarFn>(pow),
                [](const Tensor& self, Scalar base) { return pow(base, self); });
  bind_operator(tensor, "floordiv", static_cast<TensorFn>(floor_divide), static_cast<ScalarFn>(floor_divide),
                rfloor_divide);
  bind_operator(tensor, "mod", static_cast<TensorFn>(remainder), static_cast<ScalarFn>(remainder), rremainder);

  // add(a, b, alpha=2) is a + 2 * b, and sub(a, b, alpha=2) a - 2 * b, as in PyTorch.
  for (const char* name : {"add", "sub", "subtract"}) {
    const bool is_add = name[0] == 'a';
    both(name, [is_add](const Tensor& self, TensorOrNumber other, OptionalNumber alpha) -> Tensor {
      const char* op = is_add ? "add" : "sub";
      if (alpha.is_none()) return is_add ? binary_strict(self, other, add_tensors, add_scalar, op)
                                         : binary_strict(self, other, sub_tensors, sub_scalar, op);
      const Scalar scale = to_scalar(alpha, op);
      return binary_strict(self, other,
                           [=](const Tensor& a, const Tensor& b) { return is_add ? add(a, b, scale) : sub(a, b, scale); },
                           [=](const Tensor& a, Scalar b) { return is_add ? add(a, b, scale) : sub(a, b, scale); }, op);
    }, py::kw_only(), py::arg("alpha") = py::none());
  }
  for (const char* name : {"mul", "multiply"}) {
    both(name, [](const Tensor& self, TensorOrNumber other) {
      return binary_strict(self, other, static_cast<TensorFn>(mul), mul_scalar, "mul");
    });
  }
  // div(a, b, rounding_mode=None | 'trunc' | 'floor').
  for (const char* name : {"div", "divide", "true_divide"}) {
    both(name, [](const Tensor& self, TensorOrNumber other, OptionalStr rounding_mode) {
      const RoundingMode mode = to_rounding_mode(rounding_mode);
      if (mode == RoundingMode::None) return binary_strict(self, other, div_tensors, div_scalar, "div");
      return binary_strict(self, other, [mode](const Tensor& a, const Tensor& b) { return div(a, b, mode); },
                           [mode](const Tensor& a, Scalar b) { return div(a, b, mode); }, "div");
    }, py::kw_only(), py::arg("rounding_mode") = py::none());
  }
  both("floor_divide", [](const Tensor& self, TensorOrNumber other) {
    return binary_strict(self, other, static_cast<TensorFn>(floor_divide), static_cast<ScalarFn>(floor_divide),
                         "floor_divide");
  });
  both("remainder", [](const Tensor& self, TensorOrNumber other) {
    return binary_strict(self, other, static_cast<TensorFn>(remainder), static_cast<ScalarFn>(remainder), "remainder");
  });
  tensor.def("pow", [](const Tensor& self, TensorOrNumber exponent) {
    return binary_strict(self, exponent, static_cast<TensorFn>(pow), static_cast<ScalarFn>(pow), "pow");
  }, py::arg("exponent"), docstring("pow"));
  // pow(number, tensor) as a function too.
  module.def("pow", [](TensorOrNumber base, TensorOrNumber exponent) -> Tensor {
    if (is_tensor(base))
      return binary_strict(as_tensor(base), exponent, static_cast<TensorFn>(pow), static_cast<ScalarFn>(pow), "pow");
    TG_CHECK_TYPE(is_tensor(exponent), "pow", "expected at least one tensor argument");
    return call_releasing_gil([](Scalar number, const Tensor& power) { return pow(number, power); },
                              to_scalar(base, "pow"), as_tensor(exponent));
  }, py::arg("input"), py::arg("exponent"), docstring("pow"));

  for (auto [name, function] : {std::pair{"maximum", static_cast<TensorFn>(maximum)},
                                std::pair{"minimum", static_cast<TensorFn>(minimum)}}) {
    both(name, [function = function](const Tensor& self, const Tensor& other) {
      return call_releasing_gil(function, self, other);
    });
  }

  // ---- comparisons ----
  const std::pair<const char*, Comparison> comparisons[] = {
      {"eq", Comparison::Eq}, {"ne", Comparison::Ne}, {"lt", Comparison::Lt},
      {"le", Comparison::Le}, {"gt", Comparison::Gt}, {"ge", Comparison::Ge}};
  for (auto [name, op] : comparisons) {
    auto with_tensor = [op = op](const Tensor& a, const Tensor& b) { return compare(op, a, b); };
    auto with_scalar = [op = op](const Tensor& a, Scalar b) { return compare(op, a, b); };
    tensor.def((std::string("__") + name + "__").c_str(), [=, name = name](const Tensor& self, TensorOrNumber other) {
      return binary_operator(self, other, with_tensor, with_scalar, name);
    }, py::is_operator(), docstring(std::string("__") + name + "__"));
    both(name, [=, name = name](const Tensor& self, TensorOrNumber other) {
      return binary_strict(self, other, with_tensor, with_scalar, name);
    });
  }
  auto isclose_function = [](const Tensor& self, const Tensor& other, double rtol, double atol, bool equal_nan) {
    return call_releasing_gil(isclose, self, other, rtol, atol, equal_nan);
  };
  both("isclose", isclose_function, py::arg("rtol") = 1e-5, py::arg("atol") = 1e-8, py::arg("equal_nan") = false);
  auto allclose_function = [](const Tensor& self, const Tensor& other, double rtol, double atol, bool equal_nan) {
    return call_releasing_gil(allclose, self, other, rtol, atol, equal_nan);
  };
  both("allclose", allclose_function, py::arg("rtol") = 1e-5, py::arg("atol") = 1e-8, py::arg("equal_nan") = false);
  both("equal", [](const Tensor& self, const Tensor& other) { return call_releasing_gil(equal, self, other); });
  module.def("is_tensor", [](py::handle object) { return is_tensor(object); }, py::arg("obj"), docstring("is_tensor"));

  // where(condition, input, other): either value may be a number, or both.
  auto where_function = [](const Tensor& condition, TensorOrNumber a, TensorOrNumber b) -> Tensor {
    if (is_tensor(a) && is_tensor(b))
      return call_releasing_gil(static_cast<Tensor (*)(const Tensor&, const Tensor&, const Tensor&)>(where), condition,
                                as_tensor(a), as_tensor(b));
    if (is_tensor(a))
      return call_releasing_gil(static_cast<Tensor (*)(const Tensor&, const Tensor&, Scalar)>(where), condition,
                                as_tensor(a), to_scalar(b, "where"));
    if (is_tensor(b))
      return call_releasing_gil(static_cast<Tensor (*)(const Tensor&, Scalar, const Tensor&)>(where), condition,
                                to_scalar(a, "where"), as_tensor(b));
    return call_releasing_gil(static_cast<Tensor (*)(const Tensor&, Scalar, Scalar)>(where), condition,
                              to_scalar(a, "where"), to_scalar(b, "where"));
  };
  module.def("where", checked("where", {"condition"}, where_function), py::arg("condition"), py::arg("input"),
             py::arg("other"), docstring("where"));
  tensor.def("where", checked("where", {"input", "condition"}, [=](const Tensor& self, const Tensor& condition,
                                                                   TensorOrNumber other) {
    return where_function(condition, py::cast(self), other);
  }), py::arg("condition"), py::arg("other"), docstring("where"));

  // ---- unary ----
  using UnaryFn = Tensor (*)(const Tensor&);
  const std::pair<const char*, UnaryFn> unary_ops[] = {
      {"neg", neg},   {"negative", neg}, {"exp", exp},   {"log", log},       {"sqrt", sqrt},
      {"rsqrt", rsqrt}, {"abs", abs},    {"sign", sign}, {"sin", sin},       {"cos", cos},
      {"tanh", tanh}, {"sigmoid", sigmoid}, {"relu", relu}, {"logical_not", logical_not},
      {"atan", atan}, {"asin", asin}, {"acos", acos}, {"tan", tan}, {"sinh", sinh}, {"cosh", cosh},
      {"log1p", log1p}, {"expm1", expm1}, {"log2", log2}, {"log10", log10}, {"exp2", exp2}, {"erf", erf},
      {"floor", floor}, {"ceil", ceil}, {"round", round}, {"trunc", trunc}, {"frac", frac},
      {"reciprocal", reciprocal}, {"square", square}};
  auto unary = [](UnaryFn function) {
    return [function](const Tensor& self) { return call_releasing_gil(function, self); };
  };
  for (auto [name, function] : unary_ops) {
    tensor.def(name, unary(function), docstring(name));
    module.def(name, checked(name, {"input"}, unary(function)), py::arg("input"), docstring(name));
  }
  tensor.def("__neg__", unary(neg), docstring("__neg__"));
  tensor.def("__abs__", unary(abs), docstring("__abs__"));
  tensor.def("__invert__", [](const Tensor& self) {
    TG_CHECK_TYPE(self.dtype() == DType::Bool, "invert", "~ is only supported for bool tensors here");
    return call_releasing_gil(logical_not, self);
  }, docstring("__invert__"));

  // clamp(min=, max=): numbers, tensors (differentiable, broadcast) or None.
  for (const char* name : {"clamp", "clip"}) {
    auto clamp_function = [name](const Tensor& self, py::handle min, py::handle max) {
      return clamp_with(self, min, max, name);
    };
    tensor.def(name, clamp_function, py::arg("min") = py::none(), py::arg("max") = py::none(), docstring(name));
    module.def(name, checked(name, {"input"}, clamp_function), py::arg("input"), py::arg("min") = py::none(),
               py::arg("max") = py::none(), docstring(name));
  }
  // Number bounds go to clamp_min/clamp_max themselves (their nodes are named as PyTorch's).
  using OneBoundFn = Tensor (*)(const Tensor&, Scalar);
  auto clamp_min = [](const Tensor& self, py::handle min) {
    if (is_tensor(min)) return clamp_with(self, min, py::none(), "clamp_min");
    return call_releasing_gil(static_cast<OneBoundFn>(tg::clamp_min), self, to_scalar(min, "clamp_min"));
  };
  auto clamp_max = [](const Tensor& self, py::handle max) {
    if (is_tensor(max)) return clamp_with(self, py::none(), max, "clamp_max");
    return call_releasing_gil(static_cast<OneBoundFn>(tg::clamp_max), self, to_scalar(max, "clamp_max"));
  };
  tensor.def("clamp_min", clamp_min, py::arg("min"), docstring("clamp_min"));
  module.def("clamp_min", checked("clamp_min", {"input"}, clamp_min), py::arg("input"), py::arg("min"), docstring("clamp_min"));
  tensor.def("clamp_max", clamp_max, py::arg("max"), docstring("clamp_max"));
  module.def("clamp_max", checked("clamp_max", {"input"}, clamp_max), py::arg("input"), py::arg("max"), docstring("clamp_max"));
  module.def("threshold_backward",
             checked("threshold_backward", {"grad_output", "input"}, releasing<static_cast<TensorFn>(threshold_backward)>), py::arg("grad_output"),
             py::arg("input"), docstring("threshold_backward"));

  // ---- in place ----
  // Each returns self, so `a += b` keeps the same Python object.
  auto inplace = [](auto with_tensor, auto with_scalar, const char* op) {
    return [=](Tensor& self, TensorOrNumber other) -> Tensor& {
      if (is_tensor(other)) return call_releasing_gil(with_tensor, self, as_tensor(other));
      return call_releasing_gil(with_scalar, self, to_scalar(other, op));
    };
  };
  auto add_inplace = inplace([](Tensor& s, const Tensor& o) -> Tensor& { return add_(s, o); },
                             [](Tensor& s, Scalar o) -> Tensor& { return add_(s, o); }, "add_");
  auto sub_inplace = inplace([](Tensor& s, const Tensor& o) -> Tensor& { return sub_(s, o); },
                             [](Tensor& s, Scalar o) -> Tensor& { return sub_(s, o); }, "sub_");
  auto mul_inplace = inplace([](Tensor& s, const Tensor& o) -> Tensor& { return mul_(s, o); },
                             [](Tensor& s, Scalar o) -> Tensor& { return mul_(s, o); }, "mul_");
  auto div_inplace = inplace([](Tensor& s, const Tensor& o) -> Tensor& { return div_(s, o); },
                             [](Tensor& s, Scalar o) -> Tensor& { return div_(s, o); }, "div_");
  for (const char* name : {"add_", "sub_"}) {
    const bool is_add = name[0] == 'a';
    tensor.def(name, [is_add, name](Tensor& self, TensorOrNumber other, OptionalNumber alpha) -> Tensor& {
      const Scalar scale = to_scalar(alpha, name);
      auto with_tensor = [=](Tensor& s, const Tensor& o) -> Tensor& { return is_add ? add_(s, o, scale) : sub_(s, o, scale); };
      auto with_scalar = [=](Tensor& s, Scalar o) -> Tensor& { return is_add ? add_(s, o, scale) : sub_(s, o, scale); };
      if (is_tensor(other)) return call_releasing_gil(with_tensor, self, as_tensor(other));
      return call_releasing_gil(with_scalar, self, to_scalar(other, name));
    }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1, docstring(name));
  }
  tensor.def("__iadd__", add_inplace, docstring("__iadd__"));
  tensor.def("__isub__", sub_inplace, docstring("__isub__"));
  tensor.def("mul_", mul_inplace, py::arg("other"), docstring("mul_"));
  tensor.def("__imul__", mul_inplace, docstring("__imul__"));
  tensor.def("div_", div_inplace, py::arg("other"), docstring("div_"));
  tensor.def("__itruediv__", div_inplace, docstring("__itruediv__"));
  tensor.def("clamp_", [](Tensor& self, py::handle min, py::handle max) -> Tensor& {
    using TensorBoundsInPlace = Tensor& (*)(Tensor&, const Tensor&, const Tensor&);
    using ScalarBoundsInPlace = Tensor& (*)(Tensor&, std::optional<Scalar>, std::optional<Scalar>);
    if (is_tensor(min) || is_tensor(max))
      return call_releasing_gil(static_cast<TensorBoundsInPlace>(clamp_), self, bound_tensor(min, self, "clamp_"),
                                bound_tensor(max, self, "clamp_"));
    return call_releasing_gil(static_cast<ScalarBoundsInPlace>(clamp_), self, optional_scalar(min, "clamp_"),
                              optional_scalar(max, "clamp_"));
  }, py::arg("min") = py::none(), py::arg("max") = py::none(), docstring("clamp_"));
  tensor.def("relu_", [](Tensor& self) -> Tensor& { return call_releasing_gil(relu_, self); }, docstring("relu_"));
  install_fast_operator(tensor, "__add__", number_slot<add_tensors, add_scalar, add_scalar>);
  install_fast_operator(tensor, "__sub__", number_slot<sub_tensors, sub_scalar, rsub>);
  install_fast_operator(tensor, "__mul__", number_slot<mul, mul_scalar, mul_scalar>);
  install_fast_operator(tensor, "__truediv__", number_slot<div_tensors, div_scalar, rdiv>);
}

}  // namespace tg::python
