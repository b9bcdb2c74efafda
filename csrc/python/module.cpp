// The extension module tapegrad._C: exception types, the argument types, and the call into each
// family's bind function.
#include "arguments.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/threads.h"

namespace tg::python {

namespace {

void register_exceptions() {
  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const tg::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const tg::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const tg::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const tg::NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const tg::MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const tg::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace

}  // namespace tg::python

PYBIND11_MODULE(_C, module) {
  using namespace tg::python;
  module.doc() = "tapegrad's C++ core";
  register_exceptions();
  bind_arguments(module);
  module.def("set_num_threads", &tg::set_num_threads, py::arg("threads"), docstring("set_num_threads"));
  module.def("get_num_threads", &tg::get_num_threads, docstring("get_num_threads"));

  TensorClass tensor(module, "Tensor", docstring("Tensor"), py::dynamic_attr(), py::buffer_protocol());
  // Node first, so that Tensor.grad_fn's signature names it.
  bind_autograd(module, tensor);
  bind_tensor(module, tensor);
  bind_creation(module, tensor);
  bind_interop(module, tensor);
  bind_view(module, tensor);
  bind_index(module, tensor);
  bind_elementwise(module, tensor);
  bind_reduce(module, tensor);
  bind_matmul(module, tensor);
  bind_nn(module, tensor);
  bind_activation(module);
  bind_conv(module);
  bind_normalization(module);
  bind_recurrent(module);
  bind_sort(module, tensor);
  bind_shape(module, tensor);
  bind_pointwise(module, tensor);
  bind_profiler(module);
  install_fast_methods(tensor);
}
