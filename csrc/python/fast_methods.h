// Fast paths in front of the Tensor methods and operators a training step calls on every op.
// pybind11's dispatcher (argument loaders, overload resolution, defaults) costs more than a small
// op on small tensors, so the common call of a few bindings is also installed as plain CPython:
//   - an arithmetic operator (a + b, a @ b) as the type's number slot, with raw tensor unwrapping;
//   - a method usually called without arguments (x.relu(), x.sum(), loss.backward()) as a raw
//     method that runs that call itself and hands any other call, unchanged, to the binding.
// The pybind11 binding always comes first and stays (for subclasses, explicit calls such as
// Tensor.__add__(a, b), other argument forms, signatures and errors): a fast path is one of these
// calls, made after its binding exists.
#pragma once

#include <type_traits>

#include "arguments.h"
#include "bindings.h"

namespace tg::python {

// The body of a fast path: f()'s result as a new reference (None for a void f), or nullptr with
// the Python error set from whatever f threw.
template <typename F>
PyObject* fast_result(F&& f) {
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      Py_RETURN_NONE;
    } else {
      return py::cast(f()).release().ptr();
    }
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

// Installs `slot` as the number slot of the bound operator `dunder` ("__add__", "__sub__",
// "__mul__", "__truediv__" or "__matmul__"). The slot returns NotImplemented for operands it does
// not take, as the operator protocol asks.
using BinarySlot = PyObject* (*)(PyObject* left, PyObject* right);
void install_fast_operator(TensorClass& tensor, const char* dunder, BinarySlot slot);

// Installs NoArguments as the call of the bound method `name` without arguments.
using NoArgumentsCall = PyObject* (*)(const Tensor& self);
template <NoArgumentsCall NoArguments>
void install_fast_method(TensorClass& tensor, const char* name);

namespace detail {

// The raw method; `binding` is the pybind11 function it stands in front of (unbound).
template <NoArgumentsCall NoArguments>
struct FastMethod {
  static inline PyObject* binding = nullptr;
  static PyObject* call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* keyword_names);
};

// Hands a call on to `binding`, with self first and the keyword values after the positionals.
PyObject* call_binding(PyObject* binding, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* keyword_names);
// Puts the METH_FASTCALL | METH_KEYWORDS method `call` on the type in place of its binding `name`,
// keeping the docstring; returns the binding, held for good.
using FastCall = PyObject* (*)(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* keyword_names);
PyObject* replace_method(TensorClass& tensor, const char* name, FastCall call);

template <NoArgumentsCall NoArguments>
PyObject* FastMethod<NoArguments>::call(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                                        PyObject* keyword_names) {
  Tensor tensor;
  if (nargs == 0 && keyword_names == nullptr && unwrap_tensor(self, tensor)) return NoArguments(tensor);
  return call_binding(binding, self, args, nargs, keyword_names);
}

}  // namespace detail

template <NoArgumentsCall NoArguments>
void install_fast_method(TensorClass& tensor, const char* name) {
  using Method = detail::FastMethod<NoArguments>;
  Method::binding = detail::replace_method(tensor, name, &Method::call);
}

}  // namespace tg::python
