// Matrix products: matmul/mm/bmm/dot as methods and functions, @ and its reflected form, linear,
// einsum, and the GEMM's instruction-set switch for tests and benchmarks.
#include "arguments.h"
#include "bindings.h"
#include "fast_methods.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/ops/matmul.h"

namespace tg::python {

namespace {

// Products release the GIL by their multiply-adds, not their elements: a 512x512 product reads a
// quarter of a million elements but takes milliseconds.
template <typename Op>
Tensor call_product(Op op, const Tensor& a, const Tensor& b) {
  return run_releasing_gil(matmul_work(a, b), [&] { return op(a, b); });
}

template <typename Op>
void bind_product(py::module_& module, TensorClass& tensor, const char* name, Op op) {
  auto function = [op, name](TensorArgument a, TensorArgument b) {
    return call_product(op, to_tensor(a, name, "input"), to_tensor(b, name, "other"));
  };
  tensor.def(name, function, py::arg("other"), docstring(name));
  module.def(name, function, py::arg("input"), py::arg("other"), docstring(name));
}

cpu::Isa to_isa(const std::string& name) {
  for (cpu::Isa isa : {cpu::Isa::Generic, cpu::Isa::Avx2, cpu::Isa::Avx512})
    if (name == cpu::isa_name(isa)) return isa;
  fail<ValueError>("_set_cpu_isa", "unknown instruction set '", name, "'; expected generic, avx2 or avx512");
}

}  // namespace

void bind_matmul(py::module_& module, TensorClass& tensor) {
  bind_product(module, tensor, "matmul", matmul);
  bind_product(module, tensor, "mm", mm);
  bind_product(module, tensor, "bmm", bmm);
  bind_product(module, tensor, "dot", dot);

  // The operator protocol: a non-tensor operand gives NotImplemented so Python can try the other side.
  tensor.def("__matmul__", [](const Tensor& self, TensorArgument other) -> py::object {
    if (!is_tensor(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(call_product(matmul, self, as_tensor(other)));
  }, py::is_operator(), docstring("__matmul__"));
  tensor.def("__rmatmul__", [](const Tensor& self, TensorArgument other) -> py::object {
    if (!is_tensor(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
    return py::cast(call_product(matmul, as_tensor(other), self));
  }, py::is_operator(), docstring("__rmatmul__"));
  // `@` has a fast path too, as the arithmetic operators (see fast_methods.h).
  install_fast_operator(tensor, "__matmul__", [](PyObject* left, PyObject* right) {
    Tensor a, b;
    if (!unwrap_tensor(left, a) || !unwrap_tensor(right, b)) Py_RETURN_NOTIMPLEMENTED;
    return fast_result([&] { return call_product(matmul, a, b); });
  });

  module.def("linear", [](TensorArgument input_object, TensorArgument weight_object, OptionalTensor bias_object) {
    const Tensor input = to_tensor(input_object, "linear", "input"), weight = to_tensor(weight_object, "linear", "weight");
    const Tensor bias = to_optional_tensor(bias_object, "linear", "bias");
    const int64_t work = input.numel() * (weight.dim() == 2 ? weight.size(0) : 1);
    return run_releasing_gil(work, [&] { return linear(input, weight, bias); });
  }, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(), docstring("linear"));

  // einsum("ij,jk->ik", a, b) or, as PyTorch also takes it, einsum("ij,jk->ik", [a, b]).
  module.def("einsum", [](const std::string& equation, const py::args& args) {
    py::sequence items = args;
    if (args.size() == 1 && (PyList_Check(args[0].ptr()) || PyTuple_Check(args[0].ptr()))) items = args[0];
    std::vector<Tensor> operands;
    for (py::handle item : items) operands.push_back(to_tensor(item, "einsum", "operands"));
    return run_releasing_gil(einsum_work(equation, operands), [&] { return einsum(equation, operands); });
  }, py::arg("equation"), docstring("einsum"));

  module.def("_set_cpu_isa", [](const std::string& name) { cpu::set_isa(to_isa(name)); }, py::arg("isa"));
  module.def("_get_cpu_isa", [] { return std::string(cpu::isa_name(cpu::active_isa())); });
  module.def("_detected_cpu_isa", [] { return std::string(cpu::isa_name(cpu::detected_isa())); });
}

}  // namespace tg::python
