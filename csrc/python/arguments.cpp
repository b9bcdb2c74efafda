// The argument parsers and the dtype, device and Size objects (see arguments.h).
#include "arguments.h"

namespace tg::python {

namespace {

struct DTypeObject {
  DType value;
};

py::object g_dtype_objects[5];
py::object g_cpu_device;  // what t.device returns for nearly every tensor, made once
py::object g_size_type;
py::object g_numpy_generic;  // numpy.generic, for recognising NumPy scalars

void bind_dtypes(py::module_& module) {
  py::class_<DTypeObject>(module, "dtype", docstring("dtype"))
      .def_property_readonly("is_floating_point", [](const DTypeObject& d) { return is_floating(d.value); }, docstring("is_floating_point"))
      .def_property_readonly("itemsize", [](const DTypeObject& d) { return itemsize(d.value); }, docstring("itemsize"))
      .def("__repr__", [](const DTypeObject& d) { return std::string("tapegrad.") + dtype_name(d.value); }, docstring("__repr__"))
      // The name of the module global it is: pickle and copy keep the one object per dtype.
      .def("__reduce__", [](const DTypeObject& d) { return dtype_name(d.value); }, docstring("__reduce__"));
  for (DType dtype : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64}) {
    py::object object = py::cast(DTypeObject{dtype});
    g_dtype_objects[static_cast<int>(dtype)] = object;
    module.attr(dtype_name(dtype)) = object;
  }
  module.def("_dtype_of", [](DTypeArgument dtype) { return dtype_object(to_dtype(dtype, "dtype")); });
  module.def("get_default_dtype", [] { return dtype_object(default_dtype()); }, docstring("get_default_dtype"));
  module.def("set_default_dtype", [](DTypeArgument dtype) { set_default_dtype(to_dtype(dtype, "set_default_dtype")); }, py::arg("d"),
             docstring("set_default_dtype"));
}

const char* device_type_name(DeviceType type) { return type == DeviceType::CPU ? "cpu" : "cuda"; }

// tapegrad.device, as torch.device: device("cpu"), device("cuda", 0), device("cuda:1"), device(1)
// (CUDA device 1), with .type and .index. Unlike torch.device it also equals the string that names
// it (device == "cpu"), which keeps code written when Tensor.device was a string working.
void bind_devices(py::module_& module) {
  py::class_<Device>(module, "device", docstring("device"))
      .def(py::init([](py::handle type, OptionalInteger index) {
             if ((py::isinstance<Device>(type) || PyLong_Check(type.ptr())) && index.is_none())
               return to_device(type, "device");
             TG_CHECK_TYPE(py::isinstance<py::str>(type), "device", "expected a device type string such as 'cpu' or "
                           "'cuda', got ", type_name(type));
             Device device = Device::parse(type.cast<std::string>());
             if (index.is_none()) return device;
             TG_CHECK(device.index < 0, "device", "'", type.cast<std::string>(), "' already has an index, and index=",
                      py::str(index).cast<std::string>(), " was given too");
             const int64_t value = to_int(index, "device", "index");
             TG_CHECK(value >= 0 && value < 1024, "device", "device index must be in [0, 1024), got ", value);
             device.index = static_cast<int16_t>(value);
             return device;
           }),
           py::arg("type"), py::arg("index") = py::none())
      .def_property_readonly("type", [](const Device& device) { return device_type_name(device.type); }, docstring("type"))
      .def_property_readonly("index", [](const Device& device) -> py::object {
        return device.index < 0 ? py::none() : py::object(py::int_(device.index));
      }, docstring("index"))
      .def("__eq__", [](const Device& device, py::handle other) -> py::object {
        if (py::isinstance<Device>(other)) return py::bool_(device == other.cast<Device>());
        if (!py::isinstance<py::str>(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
        try {
          return py::bool_(device == Device::parse(other.cast<std::string>()));
        } catch (const ValueError&) {
          return py::bool_(false);  // a string that names no device
        }
      }, docstring("__eq__"))
      .def("__hash__", [](const Device& device) { return py::hash(py::str(device.str())); }, docstring("__hash__"))
      .def("__str__", &Device::str, docstring("__str__"))
      .def("__repr__", [](const Device& device) {
        std::string text = std::string("device(type='") + device_type_name(device.type) + "'";
        if (device.index >= 0) text += ", index=" + std::to_string(device.index);
        return text + ")";
      }, docstring("__repr__"))
      .def("__reduce__", [](const Device& device) {
        return py::make_tuple(py::type::of<Device>(), py::make_tuple(device.str()));
      }, docstring("__reduce__"));
  g_cpu_device = py::cast(Device{});
}

}  // namespace

bool is_tensor(py::handle object) { return py::isinstance<TensorImpl>(object); }

Tensor as_tensor(py::handle object) { return object.cast<Tensor>(); }

// Through unwrap_tensor, which costs less than pybind11's caster: every op reads its tensors here.
Tensor to_tensor(py::handle object, const char* op, const char* name) {
  Tensor tensor;
  TG_CHECK_TYPE(unwrap_tensor(object.ptr(), tensor), op, "expected a tensor for argument '", name, "', got ",
                type_name(object));
  return tensor;
}

Tensor to_optional_tensor(py::handle object, const char* op, const char* name) {
  return object.is_none() ? Tensor() : to_tensor(object, op, name);
}

std::vector<Tensor> to_tensors(py::handle sequence, const char* op, bool allow_none) {
  std::vector<Tensor> tensors;
  for (py::handle item : sequence) {
    if (allow_none && item.is_none()) {
      tensors.emplace_back();
      continue;
    }
    TG_CHECK_TYPE(is_tensor(item), op, "expected a sequence of tensors, got an element of type ",
                  type_name(item));
    tensors.push_back(as_tensor(item));
  }
  return tensors;
}

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
    TG_CHECK(overflow == 0, op, "integer ", py::str(object).cast<std::string>(), " does not fit in int64");
    return Scalar(static_cast<int64_t>(value));
  }
  if (PyFloat_Check(raw)) return Scalar(PyFloat_AS_DOUBLE(raw));
  if (is_scalar(object)) return to_scalar(object.attr("item")(), op);
  fail<TypeError>(op, "expected a number, got ", type_name(object));
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
  fail<TypeError>(op, "unsupported dtype ", py::repr(object).cast<std::string>(),
                  "; tapegrad has float32, float64, int32, int64 and bool");
}

bool is_dtype(py::handle object) { return py::isinstance<DTypeObject>(object); }

py::object dtype_object(DType dtype) { return g_dtype_objects[static_cast<int>(dtype)]; }

Device to_device(py::handle object, const char* op) {
  if (object.is_none()) return Device{};
  if (py::isinstance<Device>(object)) return object.cast<Device>();
  if (py::isinstance<py::str>(object)) return Device::parse(object.cast<std::string>());
  if (PyLong_Check(object.ptr()) && !PyBool_Check(object.ptr())) {  // a bare index means a CUDA device, as in PyTorch
    const int64_t index = to_int(object, op, "device");
    TG_CHECK(index >= 0 && index < 1024, op, "device index must be in [0, 1024), got ", index);
    return Device{DeviceType::CUDA, static_cast<int16_t>(index)};
  }
  if (py::hasattr(object, "type") && py::hasattr(object, "index")) return Device::parse(py::str(object).cast<std::string>());
  fail<TypeError>(op, "expected a device such as 'cpu' or tapegrad.device('cpu'), got ",
                  py::repr(object).cast<std::string>());
}

py::object device_object(Device device) { return device.is_cpu() && device.index < 0 ? g_cpu_device : py::cast(device); }

namespace {
// The value of an int-like object (an int, or anything with __index__ but a bool: NumPy integers,
// one-element integer tensors), or false when the object is not one. `overflowed` says the value
// does not fit int64.
bool index_value(py::handle object, int64_t& value, bool& overflowed) {
  PyObject* raw = object.ptr();
  if (PyBool_Check(raw)) return false;
  py::object number;
  if (!PyLong_Check(raw)) {
    if (PyFloat_Check(raw) || !PyIndex_Check(raw)) return false;
    number = py::reinterpret_steal<py::object>(PyNumber_Index(raw));  // a float tensor's __index__ raises here
    if (!number) throw py::error_already_set();
    raw = number.ptr();
  }
  int overflow = 0;
  value = PyLong_AsLongLongAndOverflow(raw, &overflow);
  overflowed = overflow != 0;
  return true;
}

std::string int_text(py::handle object) { return py::str(object); }
}  // namespace

int64_t to_int(py::handle object, const char* op, const char* name) {
  int64_t value = 0;
  bool overflowed = false;
  TG_CHECK_TYPE(index_value(object, value, overflowed), op, "argument '", name, "' must be int, not ",
                type_name(object));
  TG_CHECK(!overflowed, op, "argument '", name, "' is ", int_text(object), ", which does not fit in int64");
  return value;
}

int64_t to_dim(py::handle object, const char* op) {
  int64_t value = 0;
  bool overflowed = false;
  TG_CHECK_TYPE(index_value(object, value, overflowed), op, "argument 'dim' must be int, not ", type_name(object));
  TG_CHECK_INDEX(!overflowed, op, "dimension out of range (got ", int_text(object), ")");
  return value;
}

DimVector to_dims(py::handle object, const char* op) {
  if (!PyTuple_Check(object.ptr()) && !PyList_Check(object.ptr())) return DimVector{to_dim(object, op)};
  DimVector dims;
  for (py::handle item : object) dims.push_back(to_dim(item, op));
  return dims;
}

DimVector to_dims(const py::args& args, const char* op) {
  if (args.size() == 1) return to_dims(py::handle(args[0]), op);
  DimVector dims;
  for (py::handle item : args) dims.push_back(to_dim(item, op));
  return dims;
}

namespace {
int64_t to_dim_size(py::handle item, const char* op) {
  int64_t value = 0;
  bool overflowed = false;
  TG_CHECK_TYPE(index_value(item, value, overflowed), op, "sizes must be integers, got ", type_name(item));
  TG_CHECK(!overflowed, op, "size ", int_text(item), " does not fit in int64");
  return value;
}

bool is_sequence_of_sizes(py::handle object) { return PyTuple_Check(object.ptr()) || PyList_Check(object.ptr()); }
}  // namespace

DimVector to_shape(py::handle sequence, const char* op) {
  if (!is_sequence_of_sizes(sequence)) {
    TG_CHECK_TYPE(PyIndex_Check(sequence.ptr()) && !PyBool_Check(sequence.ptr()), op, "expected a shape as a tuple or list of ints, got ", type_name(sequence));
    return DimVector{to_dim_size(sequence, op)};
  }
  DimVector shape;
  for (py::handle item : sequence) shape.push_back(to_dim_size(item, op));
  return shape;
}

DimVector to_shape(const py::args& args, const char* op) {
  if (args.size() == 1 && is_sequence_of_sizes(args[0])) return to_shape(py::handle(args[0]), op);
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

py::handle values_indices_type(py::module_& module, const char* name, const char* attribute) {
  py::object type = py::module_::import("collections").attr("namedtuple")(name, py::make_tuple("values", "indices"),
                                                                        py::arg("module") = "tapegrad.return_types");
  module.attr(attribute) = type;
  return type;  // kept alive by the module attribute
}

void bind_arguments(py::module_& module) {
  bind_dtypes(module);
  bind_devices(module);
  g_numpy_generic = py::module_::import("numpy").attr("generic");
  module.def("_set_size_type", [](py::object type) { g_size_type = std::move(type); });
  // Python objects held in statics must go before the interpreter does.
  py::module_::import("atexit").attr("register")(py::cpp_function([] {
    for (auto& object : g_dtype_objects) object = py::object();
    g_cpu_device = py::object();
    g_size_type = py::object();
    g_numpy_generic = py::object();
  }));
}

}  // namespace tg::python
