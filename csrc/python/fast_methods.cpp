// Fast paths for the methods a training step calls on every op: x.relu(), x.sum() and
// loss.backward(), almost always without arguments. pybind11's dispatcher (argument loaders,
// overload resolution, defaults) costs more than these ops on small tensors, so each is installed as
// a plain CPython method that runs the no-argument call itself and hands any other call, unchanged,
// to the pybind11 binding it stands in front of (which keeps its signature, defaults and errors).
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"

#include <cstring>
#include <vector>

namespace tg::python {

namespace {

PyObject* relu_of(const Tensor& self) { return number_slot_result([&] { return call_releasing_gil(relu, self); }); }

PyObject* sum_of(const Tensor& self) {
  return number_slot_result([&] {
    return call_releasing_gil([](const Tensor& tensor) { return sum(tensor); }, self);
  });
}

PyObject* backward_of(const Tensor& self) {
  try {
    py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
    self.backward();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
  Py_RETURN_NONE;
}

template <PyObject* (*NoArguments)(const Tensor&)>
struct FastMethod {
  static inline PyObject* binding = nullptr;  // the pybind11 function it stands in front of (unbound)

  static PyObject* call(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* keyword_names) {
    Tensor tensor;
    if (nargs == 0 && keyword_names == nullptr && unwrap_tensor(self, tensor)) return NoArguments(tensor);
    // Any other call: the binding, with self first and the keyword values after the positionals.
    const Py_ssize_t keywords = keyword_names ? PyTuple_GET_SIZE(keyword_names) : 0;
    std::vector<PyObject*> with_self(static_cast<size_t>(1 + nargs + keywords));
    with_self[0] = self;
    std::copy(args, args + nargs + keywords, with_self.begin() + 1);
    return PyObject_Vectorcall(binding, with_self.data(), 1 + nargs, keyword_names);
  }

  static void install(PyTypeObject* type, const char* name) {
    binding = py::getattr(reinterpret_cast<PyObject*>(type), name).release().ptr();  // held for good
    const py::object doc = py::getattr(binding, "__doc__", py::none());
    static PyMethodDef definition{};
    definition.ml_name = name;
    definition.ml_meth = reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(&call));
    definition.ml_flags = METH_FASTCALL | METH_KEYWORDS;
    definition.ml_doc = doc.is_none() ? nullptr : strdup(py::str(doc).cast<std::string>().c_str());
    const py::object method = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, &definition));
    if (!method || PyDict_SetItemString(type->tp_dict, name, method.ptr()) != 0) throw py::error_already_set();
  }
};

}  // namespace

void install_fast_methods(TensorClass& tensor) {
  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  FastMethod<relu_of>::install(type, "relu");
  FastMethod<sum_of>::install(type, "sum");
  FastMethod<backward_of>::install(type, "backward");
  PyType_Modified(type);
}

}  // namespace tg::python
