// Elementwise ops as methods, operators (with reflected forms) and module functions.
#include "bindings.h"
#include "tapegrad/ops/elementwise.h"

namespace tg::python {

namespace {

// The Python operator protocol: an operand we don't understand gives NotImplemented, so Python
// can try the other operand's reflected method (and then raise its own TypeError).
template <typename WithTensor, typename WithScalar>
py::object binary(const Tensor& self, py::handle other, WithTensor with_tensor, WithScalar with_scalar, const char* op) {
  if (is_tensor(other)) return py::cast(with_tensor(self, as_tensor(other)));
  if (is_scalar(other)) return py::cast(with_scalar(self, to_scalar(other, op)));
  return py::reinterpret_borrow<py::object>(Py_NotImplemented);
}

// Methods and functions raise TypeError for a bad operand instead.
template <typename WithTensor, typename WithScalar>
Tensor binary_strict(const Tensor& self, py::handle other, WithTensor with_tensor, WithScalar with_scalar, const char* op) {
  if (is_tensor(other)) return with_tensor(self, as_tensor(other));
  if (is_scalar(other)) return with_scalar(self, to_scalar(other, op));
  fail<TypeError>("[", op, "] expected a tensor or a number, got ", py::str(py::type::of(other).attr("__name__")).cast<std::string>());
}

// ---- fast operator slots -------------------------------------------------------------------
// `a + b` is the unit of per-op overhead. pybind11's generic dispatcher (overload resolution,
// argument loaders) costs more than the add itself on small tensors, so the four arithmetic
// operators of the Tensor type are also installed as plain CPython number slots that unwrap the
// tensors directly. The bound __add__ etc. stay for subclasses and explicit method calls.

template <Tensor (*WithTensor)(const Tensor&, const Tensor&), Tensor (*WithScalar)(const Tensor&, Scalar),
          Tensor (*ScalarFirst)(const Tensor&, Scalar)>
PyObject* number_slot(PyObject* left, PyObject* right) {
  Tensor a, b;
  const bool left_is_tensor = unwrap_tensor(left, a);
  const bool right_is_tensor = unwrap_tensor(right, b);
  if (!(left_is_tensor && right_is_tensor) && !(left_is_tensor && is_scalar(right)) &&
      !(right_is_tensor && is_scalar(left)))
    Py_RETURN_NOTIMPLEMENTED;
  return number_slot_result([&] {
    Tensor result;
    if (left_is_tensor && right_is_tensor) {
      const bool release = may_release_gil(std::max(a.numel(), b.numel()), {&a, &b});
      result = run_releasing_gil(release, [&] { return WithTensor(a, b); });
    } else if (left_is_tensor && is_scalar(right)) {
      const Scalar number = to_scalar(right, "operator");
      result = run_releasing_gil(may_release_gil(a.numel(), {&a}), [&] { return WithScalar(a, number); });
    } else if (right_is_tensor && is_scalar(left)) {
      const Scalar number = to_scalar(left, "operator");
      result = run_releasing_gil(may_release_gil(b.numel(), {&b}), [&] { return ScalarFirst(b, number); });
    }
    return result;
  });
}

Tensor add_scalar(const Tensor& a, Scalar b) { return add(a, b); }
Tensor sub_scalar(const Tensor& a, Scalar b) { return sub(a, b); }
Tensor mul_scalar(const Tensor& a, Scalar b) { return mul(a, b); }
Tensor div_scalar(const Tensor& a, Scalar b) { return div(a, b); }
Tensor add_tensors(const Tensor& a, const Tensor& b) { return add(a, b); }

void install_number_slots(TensorClass& tensor) {
  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  PyNumberMethods* slots = type->tp_as_number;
  slots->nb_add = number_slot<add_tensors, add_scalar, add_scalar>;
  slots->nb_subtract = number_slot<sub, sub_scalar, rsub>;
  slots->nb_multiply = number_slot<mul, mul_scalar, mul_scalar>;
  slots->nb_true_divide = number_slot<div, div_scalar, rdiv>;
  PyType_Modified(type);
}

std::optional<Scalar> optional_scalar(py::handle object, const char* op) {
  if (object.is_none()) return std::nullopt;
  return to_scalar(object, op);
}

// Binds name (method and function), __name__ and __rname__ for a commutative-or-not binary op.
template <typename WithTensor, typename WithScalar, typename Reflected>
void bind_arithmetic(py::module_& module, TensorClass& tensor, const char* name, WithTensor with_tensor,
                     WithScalar with_scalar, Reflected reflected) {
  const std::string dunder = std::string("__") + name + "__";
  const std::string reflected_dunder = std::string("__r") + name + "__";
  const std::string inplace_dunder = std::string("__i") + name + "__";
  tensor.def(dunder.c_str(), [=](const Tensor& self, py::handle other) { return binary(self, other, with_tensor, with_scalar, name); }, py::is_operator());
  tensor.def(reflected_dunder.c_str(), [=](const Tensor& self, py::handle other) -> py::object {
    if (is_scalar(other)) return py::cast(reflected(self, to_scalar(other, name)));
    if (is_tensor(other)) return py::cast(with_tensor(as_tensor(other), self));
    return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  }, py::is_operator());
  tensor.def(name, [=](const Tensor& self, py::handle other) { return binary_strict(self, other, with_tensor, with_scalar, name); });
  module.def(name, [=](const Tensor& self, py::handle other) { return binary_strict(self, other, with_tensor, with_scalar, name); });
}

}  // namespace

void bind_elementwise(py::module_& module, TensorClass& tensor) {
  using TensorFn = Tensor (*)(const Tensor&, const Tensor&);
  using ScalarFn = Tensor (*)(const Tensor&, Scalar);

  bind_arithmetic(module, tensor, "add", static_cast<TensorFn>(add), static_cast<ScalarFn>(add),
                  [](const Tensor& self, Scalar other) { return add(self, other); });
  bind_arithmetic(module, tensor, "sub", static_cast<TensorFn>(sub), static_cast<ScalarFn>(sub), rsub);
  bind_arithmetic(module, tensor, "mul", static_cast<TensorFn>(mul), static_cast<ScalarFn>(mul),
                  [](const Tensor& self, Scalar other) { return mul(self, other); });
  bind_arithmetic(module, tensor, "truediv", static_cast<TensorFn>(div), static_cast<ScalarFn>(div), rdiv);
  bind_arithmetic(module, tensor, "pow", static_cast<TensorFn>(pow), static_cast<ScalarFn>(pow),
                  [](const Tensor& self, Scalar base) { return pow(base, self); });

  // Keyword forms PyTorch code uses: add(a, b, alpha=2), a.add(b, alpha=2), and the aliases.
  auto add_alpha = [](const Tensor& self, py::handle other, py::handle alpha) -> Tensor {
    const Scalar scale = to_scalar(alpha, "add");
    if (is_tensor(other)) return add(self, as_tensor(other), scale);
    return add(self, Scalar(to_scalar(other, "add").to_double() * scale.to_double()));
  };
  tensor.def("add", add_alpha, py::arg("other"), py::kw_only(), py::arg("alpha"));
  module.def("add", add_alpha, py::arg("input"), py::arg("other"), py::kw_only(), py::arg("alpha"));
  for (const char* alias : {"div", "divide", "true_divide"}) {
    tensor.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(div), static_cast<ScalarFn>(div), "div"); });
    module.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(div), static_cast<ScalarFn>(div), "div"); });
  }
  for (const char* alias : {"multiply"}) {
    tensor.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(mul), static_cast<ScalarFn>(mul), "mul"); });
    module.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(mul), static_cast<ScalarFn>(mul), "mul"); });
  }
  for (const char* alias : {"subtract"}) {
    tensor.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(sub), static_cast<ScalarFn>(sub), "sub"); });
    module.def(alias, [](const Tensor& self, py::handle other) { return binary_strict(self, other, static_cast<TensorFn>(sub), static_cast<ScalarFn>(sub), "sub"); });
  }
  // pow(number, tensor) as a function.
  module.def("pow", [](py::handle base, py::handle exponent) -> Tensor {
    if (is_tensor(base)) return binary_strict(as_tensor(base), exponent, static_cast<TensorFn>(pow), static_cast<ScalarFn>(pow), "pow");
    TG_CHECK_TYPE(is_tensor(exponent), "[pow] expected at least one tensor argument");
    return pow(to_scalar(base, "pow"), as_tensor(exponent));
  });

  for (auto [name, function] : {std::pair{"maximum", static_cast<TensorFn>(maximum)}, std::pair{"minimum", static_cast<TensorFn>(minimum)}}) {
    tensor.def(name, function);
    module.def(name, function);
  }

  const std::pair<const char*, Comparison> comparisons[] = {
      {"eq", Comparison::Eq}, {"ne", Comparison::Ne}, {"lt", Comparison::Lt},
      {"le", Comparison::Le}, {"gt", Comparison::Gt}, {"ge", Comparison::Ge}};
  for (auto [name, op] : comparisons) {
    auto compare_with = [op = op, name = name](const Tensor& self, py::handle other) {
      return binary(self, other, [op](const Tensor& a, const Tensor& b) { return compare(op, a, b); },
                    [op](const Tensor& a, Scalar b) { return compare(op, a, b); }, name);
    };
    tensor.def((std::string("__") + name + "__").c_str(), compare_with, py::is_operator());
    tensor.def(name, compare_with);
    module.def(name, compare_with);
  }

  auto where_function = [](const Tensor& condition, py::handle a, py::handle b) -> Tensor {
    if (is_tensor(a) && is_tensor(b)) return where(condition, as_tensor(a), as_tensor(b));
    if (is_tensor(a)) return where(condition, as_tensor(a), to_scalar(b, "where"));
    TG_CHECK_TYPE(is_tensor(b), "[where] expected at least one of input and other to be a tensor");
    return where(condition, to_scalar(a, "where"), as_tensor(b));
  };
  module.def("where", where_function, py::arg("condition"), py::arg("input"), py::arg("other"));
  tensor.def("where", [=](const Tensor& self, const Tensor& condition, py::handle other) {
    return where_function(condition, py::cast(self), other);
  }, py::arg("condition"), py::arg("other"));

  using UnaryFn = Tensor (*)(const Tensor&);
  const std::pair<const char*, UnaryFn> unary_ops[] = {
      {"neg", neg},   {"negative", neg}, {"exp", exp},   {"log", log},       {"sqrt", sqrt},
      {"rsqrt", rsqrt}, {"abs", abs},    {"sign", sign}, {"sin", sin},       {"cos", cos},
      {"tanh", tanh}, {"sigmoid", sigmoid}, {"relu", relu}, {"logical_not", logical_not}};
  for (auto [name, function] : unary_ops) {
    auto call = [function = function](const Tensor& self) {
      return run_releasing_gil(may_release_gil(self.numel(), {&self}), [&] { return function(self); });
    };
    tensor.def(name, call);
    module.def(name, call);
  }
  tensor.def("__neg__", static_cast<UnaryFn>(neg));
  tensor.def("__abs__", static_cast<UnaryFn>(abs));
  tensor.def("__invert__", [](const Tensor& self) {
    TG_CHECK_TYPE(self.dtype() == DType::Bool, "[invert] ~ is only supported for bool tensors here");
    return logical_not(self);
  });

  auto clamp_function = [](const Tensor& self, py::handle min, py::handle max) {
    return clamp(self, optional_scalar(min, "clamp"), optional_scalar(max, "clamp"));
  };
  for (const char* name : {"clamp", "clip"}) {
    tensor.def(name, clamp_function, py::arg("min") = py::none(), py::arg("max") = py::none());
    module.def(name, clamp_function, py::arg("input"), py::arg("min") = py::none(), py::arg("max") = py::none());
  }
  auto clamp_min = [](const Tensor& self, py::handle min) { return tg::clamp_min(self, to_scalar(min, "clamp_min")); };
  auto clamp_max = [](const Tensor& self, py::handle max) { return tg::clamp_max(self, to_scalar(max, "clamp_max")); };
  tensor.def("clamp_min", clamp_min);
  module.def("clamp_min", clamp_min);
  tensor.def("clamp_max", clamp_max);
  module.def("clamp_max", clamp_max);
  module.def("threshold_backward", static_cast<Tensor (*)(const Tensor&, const Tensor&)>(threshold_backward));

  // In place. Each returns self, so `a += b` keeps the same Python object.
  auto inplace = [](auto with_tensor, auto with_scalar, const char* op) {
    return [=](Tensor& self, py::handle other) -> Tensor& {
      if (is_tensor(other)) {
        Tensor value = as_tensor(other);
        return with_tensor(self, value);
      }
      return with_scalar(self, to_scalar(other, op));
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
  tensor.def("add_", [](Tensor& self, py::handle other, py::handle alpha) -> Tensor& {
    if (is_tensor(other)) return add_(self, as_tensor(other), to_scalar(alpha, "add_"));
    return add_(self, Scalar(to_scalar(other, "add_").to_double() * to_scalar(alpha, "add_").to_double()));
  }, py::arg("other"), py::kw_only(), py::arg("alpha") = 1);
  tensor.def("__iadd__", add_inplace);
  tensor.def("sub_", sub_inplace);
  tensor.def("__isub__", sub_inplace);
  tensor.def("mul_", mul_inplace);
  tensor.def("__imul__", mul_inplace);
  tensor.def("div_", div_inplace);
  tensor.def("__itruediv__", div_inplace);
  tensor.def("clamp_", [](Tensor& self, py::handle min, py::handle max) -> Tensor& {
    return clamp_(self, optional_scalar(min, "clamp_"), optional_scalar(max, "clamp_"));
  }, py::arg("min") = py::none(), py::arg("max") = py::none());
  tensor.def("relu_", [](Tensor& self) -> Tensor& { return relu_(self); });
  install_number_slots(tensor);
}

}  // namespace tg::python
