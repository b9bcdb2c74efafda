// The fast-path machinery of fast_methods.h, and the no-argument fast paths of x.relu(), x.sum()
// and loss.backward().
#include "fast_methods.h"

#include <cstring>
#include <vector>

#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"

namespace tg::python {

namespace detail {

PyObject* call_binding(PyObject* binding, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* keyword_names) {
  const Py_ssize_t keywords = keyword_names ? PyTuple_GET_SIZE(keyword_names) : 0;
  std::vector<PyObject*> with_self(static_cast<size_t>(1 + nargs + keywords));
  with_self[0] = self;
  std::copy(args, args + nargs + keywords, with_self.begin() + 1);
  return PyObject_Vectorcall(binding, with_self.data(), 1 + nargs, keyword_names);
}

PyObject* replace_method(TensorClass& tensor, const char* name, FastCall call) {
  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  PyObject* binding = py::getattr(tensor, name).release().ptr();  // held for good
  const py::object doc = py::getattr(binding, "__doc__", py::none());
  auto* definition = new PyMethodDef{};  // the method refers to it for good
  definition->ml_name = name;
  definition->ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(call));
  definition->ml_flags = METH_FASTCALL | METH_KEYWORDS;
  definition->ml_doc = doc.is_none() ? nullptr : strdup(py::str(doc).cast<std::string>().c_str());
  const py::object method = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, definition));
  if (!method || PyDict_SetItemString(type->tp_dict, name, method.ptr()) != 0) throw py::error_already_set();
  PyType_Modified(type);
  return binding;
}

}  // namespace detail

void install_fast_operator(TensorClass& tensor, const char* dunder, BinarySlot slot) {
  const std::pair<const char*, binaryfunc PyNumberMethods::*> slots[] = {
      {"__add__", &PyNumberMethods::nb_add},
      {"__sub__", &PyNumberMethods::nb_subtract},
      {"__mul__", &PyNumberMethods::nb_multiply},
      {"__truediv__", &PyNumberMethods::nb_true_divide},
      {"__matmul__", &PyNumberMethods::nb_matrix_multiply}};
  TG_CHECK(py::hasattr(tensor, dunder), "install_fast_operator", dunder, " must be bound before its fast path");
  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  for (auto [name, member] : slots) {
    if (std::strcmp(name, dunder) != 0) continue;
    type->tp_as_number->*member = slot;
    PyType_Modified(type);
    return;
  }
  fail<Error>("install_fast_operator", "no number slot for ", dunder);
}

namespace {

PyObject* relu_of(const Tensor& self) { return fast_result([&] { return call_releasing_gil(relu, self); }); }

PyObject* sum_of(const Tensor& self) {
  return fast_result([&] { return call_releasing_gil([](const Tensor& tensor) { return sum(tensor); }, self); });
}

PyObject* backward_of(const Tensor& self) {
  return fast_result([&] {
    py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
    self.backward();
  });
}

}  // namespace

void install_fast_methods(TensorClass& tensor) {
  install_fast_method<relu_of>(tensor, "relu");
  install_fast_method<sum_of>(tensor, "sum");
  install_fast_method<backward_of>(tensor, "backward");
}

}  // namespace tg::python
