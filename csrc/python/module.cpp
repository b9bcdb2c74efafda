// The extension module tapegrad._C: exception types, dtype objects, argument parsers, and the
// call into each family's bind function.
#include "bindings.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/threads.h"

namespace tg::python {

namespace {

struct DTypeObject {
  DType value;
};

py::object g_dtype_objects[5];
py::object g_size_type;
py::object g_numpy_generic;  // numpy.generic, for recognising NumPy scalars

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

void bind_dtypes(py::module_& module) {
  py::class_<DTypeObject>(module, "dtype")
      .def_property_readonly("is_floating_point", [](const DTypeObject& d) { return is_floating(d.value); })
      .def_property_readonly("itemsize", [](const DTypeObject& d) { return itemsize(d.value); })
      .def("__repr__", [](const DTypeObject& d) { return std::string("tapegrad.") + dtype_name(d.value); })
      .def("__reduce__", [](const DTypeObject& d) { return py::make_tuple(py::module_::import("builtins").attr("getattr"),
                                                                           py::make_tuple(py::module_::import("tapegrad"), dtype_name(d.value))); });
  for (DType dtype : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64}) {
    py::object object = py::cast(DTypeObject{dtype});
    g_dtype_objects[static_cast<int>(dtype)] = object;
    module.attr(dtype_name(dtype)) = object;
  }
  module.def("_dtype_of", [](py::handle dtype) { return dtype_object(to_dtype(dtype, "dtype")); });
  module.def("get_default_dtype", [] { return dtype_object(default_dtype()); });
  module.def("set_default_dtype", [](py::handle dtype) { set_default_dtype(to_dtype(dtype, "set_default_dtype")); });
}

}  // namespace

bool is_tensor(py::handle object) { return py::isinstance<TensorImpl>(object); }

Tensor as_tensor(py::handle object) { return object.cast<Tensor>(); }

bool is_scalar(py::handle object) {
  if (PyBool_Check(object.ptr()) || PyLong_Check(object.ptr()) || PyFloat_Check(object.ptr())) return true;
  return g_numpy_generic && PyObject_IsInstance(object.ptr(), g_numpy_generic.ptr()) == 1 &&
         py::hasattr(object, "ndim") && py::int_(object.attr("ndim")).cast<int>() == 0 &&
         !py::isinstance<py::str>(object) && !py::isinstance<py::bytes>(object);
}

Scalar to_scalar(py::handle object, const char* op) {
  PyObject* raw = object.ptr();
  if (PyBool_Check(raw)) return Scalar(raw == Py_True);
  if (PyLong_Check(raw)) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(raw, &overflow);
    TG_CHECK(overflow == 0, "[", op, "] integer ", py::str(object).cast<std::string>(), " does not fit in int64");
    return Scalar(static_cast<int64_t>(value));
  }
  if (PyFloat_Check(raw)) return Scalar(PyFloat_AS_DOUBLE(raw));
  if (is_scalar(object)) return to_scalar(object.attr("item")(), op);
  fail<TypeError>("[", op, "] expected a number, got ", py::str(py::type::of(object).attr("__name__")).cast<std::string>());
}

DType to_dtype(py::handle object, const char* op) {
  if (py::isinstance<DTypeObject>(object)) return object.cast<DTypeObject>().value;
  if (object.ptr() == reinterpret_cast<PyObject*>(&PyFloat_Type)) return DType::Float64;
  if (object.ptr() == reinterpret_cast<PyObject*>(&PyLong_Type)) return DType::Int64;
  if (object.ptr() == reinterpret_cast<PyObject*>(&PyBool_Type)) return DType::Bool;
  // NumPy dtypes and scalar types, and torch dtypes, by name.
  std::string name;
  if (py::hasattr(object, "is_floating_point") && py::hasattr(object, "itemsize")) {
    name = py::str(object).cast<std::string>();  // torch.float32
    name = name.substr(name.find('.') + 1);
  } else {
    try {
      name = py::str(py::module_::import("numpy").attr("dtype")(object).attr("name")).cast<std::string>();
    } catch (py::error_already_set&) {
      name.clear();
    }
  }
  for (DType dtype : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
    if (name == dtype_name(dtype)) return dtype;
  if (name == "float") return DType::Float32;
  if (name == "double") return DType::Float64;
  if (name == "long") return DType::Int64;
  if (name == "int") return DType::Int32;
  fail<TypeError>("[", op, "] unsupported dtype ", py::repr(object).cast<std::string>(),
                  "; tapegrad has float32, float64, int32, int64 and bool");
}

py::object dtype_object(DType dtype) { return g_dtype_objects[static_cast<int>(dtype)]; }

Device to_device(py::handle object, const char* op) {
  if (object.is_none()) return Device{};
  if (py::isinstance<py::str>(object)) return Device::parse(object.cast<std::string>());
  if (py::hasattr(object, "type") && py::hasattr(object, "index")) return Device::parse(py::str(object).cast<std::string>());
  fail<TypeError>("[", op, "] expected a device such as 'cpu', got ", py::repr(object).cast<std::string>());
}

namespace {
int64_t to_dim_size(py::handle item, const char* op) {
  if (PyLong_Check(item.ptr()) && !PyBool_Check(item.ptr())) return item.cast<int64_t>();
  if (py::hasattr(item, "__index__") && !PyBool_Check(item.ptr()) && !is_tensor(item))
    return py::reinterpret_steal<py::object>(PyNumber_Index(item.ptr())).cast<int64_t>();
  if (is_tensor(item)) {
    const Tensor tensor = as_tensor(item);
    if (tensor.numel() == 1 && !is_floating(tensor.dtype()) && tensor.dtype() != DType::Bool)
      return py::int_(item.attr("item")()).cast<int64_t>();
  }
  fail<TypeError>("[", op, "] sizes must be integers, got ", py::str(py::type::of(item).attr("__name__")).cast<std::string>());
}
}  // namespace

DimVector to_shape(py::handle sequence, const char* op) {
  if (PyLong_Check(sequence.ptr()) && !PyBool_Check(sequence.ptr())) return DimVector{to_dim_size(sequence, op)};
  TG_CHECK_TYPE(PyTuple_Check(sequence.ptr()) || PyList_Check(sequence.ptr()), "[", op,
                "] expected a shape as a tuple or list of ints, got ",
                py::str(py::type::of(sequence).attr("__name__")).cast<std::string>());
  DimVector shape;
  for (py::handle item : sequence) shape.push_back(to_dim_size(item, op));
  return shape;
}

DimVector to_shape(const py::args& args, const char* op) {
  if (args.size() == 1 && (PyTuple_Check(args[0].ptr()) || PyList_Check(args[0].ptr()))) return to_shape(py::handle(args[0]), op);
  DimVector shape;
  for (py::handle item : args) shape.push_back(to_dim_size(item, op));
  return shape;
}

bool unwrap_tensor(PyObject* object, Tensor& tensor) {
  static PyTypeObject* tensor_type = reinterpret_cast<PyTypeObject*>(py::type::of<TensorImpl>().ptr());
  if (!PyObject_TypeCheck(object, tensor_type)) return false;
  auto holder = reinterpret_cast<py::detail::instance*>(object)->get_value_and_holder();
  if (!holder.holder_constructed()) return false;
  tensor = Tensor(holder.holder<std::shared_ptr<TensorImpl>>());
  return true;
}

py::object make_size(const DimVector& sizes) {
  py::tuple tuple(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) PyTuple_SET_ITEM(tuple.ptr(), i, PyLong_FromLongLong(sizes[i]));
  return g_size_type ? g_size_type(tuple) : py::object(tuple);
}

}  // namespace tg::python

PYBIND11_MODULE(_C, module) {
  using namespace tg::python;
  module.doc() = "tapegrad's C++ core";
  register_exceptions();
  bind_dtypes(module);
  g_numpy_generic = py::module_::import("numpy").attr("generic");
  module.def("_set_size_type", [](py::object type) { g_size_type = std::move(type); });
  module.def("set_num_threads", &tg::set_num_threads, py::arg("threads"));
  module.def("get_num_threads", &tg::get_num_threads);
  // Python objects held in statics must go before the interpreter does.
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    for (auto& object : g_dtype_objects) object = py::object();
    g_size_type = py::object();
    g_numpy_generic = py::object();
  }));

  TensorClass tensor(module, "Tensor", py::dynamic_attr(), py::buffer_protocol());
  bind_tensor(module, tensor);
  bind_autograd(module, tensor);
  bind_creation(module, tensor);
  bind_interop(module, tensor);
  bind_view(module, tensor);
  bind_index(module, tensor);
  bind_elementwise(module, tensor);
  bind_reduce(module, tensor);
  bind_matmul(module, tensor);
  bind_nn(module, tensor);
}
