// Shared by the binding files: how a tg::Tensor crosses into Python (as the TensorImpl object it
// holds, so the same tensor is the same Python object and keeps its attributes), when a binding
// releases the GIL, and each family's bind function. Bindings hold no logic beyond argument
// conversion, which arguments.h provides.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string_view>

#include "tapegrad/core/tensor.h"

namespace py = pybind11;

namespace tg::python {
// Gives a new Python object for `impl` the attributes its last one had (see tensor.cpp).
void restore_python_state(py::handle object, TensorImpl& impl);
}  // namespace tg::python

namespace pybind11::detail {

template <>
struct type_caster<tg::Tensor> {
  PYBIND11_TYPE_CASTER(tg::Tensor, const_name("Tensor"));
  using Holder = std::shared_ptr<tg::TensorImpl>;

  bool load(handle source, bool convert) {
    copyable_holder_caster<tg::TensorImpl, Holder> holder;
    if (source.is_none() || !holder.load(source, convert)) return false;
    value = tg::Tensor(static_cast<Holder&>(holder));
    return true;
  }
  // An undefined tensor is None; otherwise pybind11 finds the existing Python object of this
  // TensorImpl, if any, and makes one otherwise.
  static handle cast(const tg::Tensor& source, return_value_policy, handle) {
    if (!source.defined()) return none().release();
    handle object =
        copyable_holder_caster<tg::TensorImpl, Holder>::cast(source.impl_ptr(), return_value_policy::take_ownership, {});
    if (object && source.impl()->has_python_state()) tg::python::restore_python_state(object, *source.impl());
    return object;
  }
};

}  // namespace pybind11::detail

namespace tg::python {

using TensorClass = py::class_<TensorImpl, std::shared_ptr<TensorImpl>>;

// Long kernels run without the GIL, so other Python threads (a data loader, a UI) keep going;
// small ones keep it, since releasing and retaking it would cost more than they do. Every binding
// that can run long calls its op through call_releasing_gil (or run_releasing_gil with a work
// estimate of its own, as matrix products do), after parsing its Python arguments: nothing inside
// may touch a Python object. Recording autograd is safe without the GIL (see gradient_edge).
inline int64_t work_of(const Tensor& tensor) { return tensor.defined() ? tensor.numel() : 0; }
inline int64_t work_of(const std::vector<Tensor>& tensors) {
  int64_t work = 0;
  for (const Tensor& tensor : tensors) work += work_of(tensor);
  return work;
}
template <typename T>
int64_t work_of(const T&) { return 0; }  // arguments that are not tensors

// About a millisecond's worth of elementwise work, or less.
constexpr int64_t kReleaseGilWork = int64_t{1} << 20;

template <typename F>
decltype(auto) run_releasing_gil(int64_t work, F&& f) {
  if (work < kReleaseGilWork) return f();
  py::gil_scoped_release no_gil;
  return f();
}

// op(args...), without the GIL when its tensor arguments hold kReleaseGilWork elements or more.
template <typename Op, typename... Args>
decltype(auto) call_releasing_gil(Op&& op, Args&&... args) {
  return run_releasing_gil((int64_t{0} + ... + work_of(args)),
                           [&]() -> decltype(auto) { return op(std::forward<Args>(args)...); });
}

// A function with op's signature that runs it through call_releasing_gil, for binding an op
// directly: tensor.def("gather", releasing<&gather>).
template <auto Op>
struct Releasing;
template <typename R, typename... Args, R (*Op)(Args...)>
struct Releasing<Op> {
  static R call(Args... args) { return call_releasing_gil(Op, std::forward<Args>(args)...); }
};
template <auto Op>
constexpr auto releasing = &Releasing<Op>::call;

// The docstring bound with `name` (see docstrings.cpp), or null when it has none.
const char* docstring(std::string_view name);

// One bind function per family, each in its own file.
void bind_tensor(py::module_& module, TensorClass& tensor);
void bind_autograd(py::module_& module, TensorClass& tensor);
void bind_creation(py::module_& module, TensorClass& tensor);
void bind_interop(py::module_& module, TensorClass& tensor);
void bind_view(py::module_& module, TensorClass& tensor);
void bind_index(py::module_& module, TensorClass& tensor);
void bind_elementwise(py::module_& module, TensorClass& tensor);
void bind_reduce(py::module_& module, TensorClass& tensor);
void bind_matmul(py::module_& module, TensorClass& tensor);
void bind_nn(py::module_& module, TensorClass& tensor);
void bind_activation(py::module_& module);
void bind_conv(py::module_& module);
void bind_normalization(py::module_& module);
void bind_recurrent(py::module_& module);
void bind_sort(py::module_& module, TensorClass& tensor);
void bind_shape(py::module_& module, TensorClass& tensor);
void bind_pointwise(py::module_& module, TensorClass& tensor);
void bind_profiler(py::module_& module);
// After every family is bound: the no-argument fast paths of relu, sum and backward (see
// fast_methods.h).
void install_fast_methods(TensorClass& tensor);

}  // namespace tg::python
