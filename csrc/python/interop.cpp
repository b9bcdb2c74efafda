// Getting data in and out: tensor(data) from nested Python sequences, NumPy (from_numpy, numpy(),
// __array__, the buffer protocol) and DLPack. Everything that can share memory does, and the other
// side's memory stays alive for as long as any tensor views it.
#include <pybind11/numpy.h>

#include <optional>

#include "arguments.h"
#include "bindings.h"
#include "dlpack.h"
#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/ops/copy.h"

namespace tg::python {

namespace {

// ---- NumPy dtypes ----------------------------------------------------------------------------

// The tapegrad dtype with exactly this NumPy dtype's bytes, if any (memory sharing needs that).
std::optional<DType> exact_dtype(const py::dtype& dtype) {
  if (dtype.byteorder() == '>') return std::nullopt;  // non-native byte order (x86 and ARM are little-endian)
  const char kind = dtype.kind();
  const size_t size = dtype.itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'b' && size == 1) return DType::Bool;
  return std::nullopt;
}

std::string numpy_dtype_name(const py::dtype& dtype) { return py::str(dtype); }

// tensor() copies anyway, so a NumPy dtype tapegrad lacks becomes the smallest tapegrad dtype that
// holds all its values (PyTorch would keep int8/uint8/int16/float16, which tapegrad does not have).
DType widened_dtype(const py::dtype& dtype, const char* op) {
  if (auto exact = exact_dtype(dtype)) return *exact;
  const char kind = dtype.kind();
  const size_t size = dtype.itemsize();
  if ((kind == 'i' || kind == 'u') && size <= 2) return DType::Int32;
  if (kind == 'i' || (kind == 'u' && size == 4)) return DType::Int64;
  if (kind == 'f' && size <= 8) return size == 8 ? DType::Float64 : DType::Float32;
  fail<TypeError>(op, "can't convert a NumPy array of dtype ", numpy_dtype_name(dtype),
                  "; supported: float16/32/64, int8/16/32/64, uint8/16/32 and bool");
}

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  fail<Error>("dtype", "unknown dtype");
}

// A stride in bytes as NumPy and the buffer protocol take it. A size-1 dimension may carry any
// stride (as_strided, expand); the product then wraps as PyTorch's does, computed unsigned so
// that the overflow is defined.
int64_t byte_stride(int64_t stride, int64_t item) {
  return static_cast<int64_t>(static_cast<uint64_t>(stride) * static_cast<uint64_t>(item));
}

// Bytes spanned by a strided layout with non-negative strides (in elements), from its first element.
size_t extent_bytes(const DimVector& sizes, const DimVector& strides, DType dtype) {
  int64_t last = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return 0;
    last += (sizes[d] - 1) * strides[d];
  }
  return static_cast<size_t>(last + 1) * itemsize(dtype);
}

// ---- tensor(data) from nested sequences ------------------------------------------------------
// One pass finds the shape and the dtype, a second writes the values straight into the new
// tensor: no NumPy array or flattened list in between.

bool is_zero_dim_array(PyObject* object) {
  return py::isinstance<py::array>(object) && py::reinterpret_borrow<py::array>(object).ndim() == 0;
}

bool is_sequence(PyObject* object) {
  return PyList_Check(object) || PyTuple_Check(object) ||
         (PySequence_Check(object) && !PyUnicode_Check(object) && !PyBytes_Check(object) && !is_scalar(object) &&
          !is_tensor(object) && !is_zero_dim_array(object));
}

// The items of a list or tuple as is; anything else (a NumPy array inside a list) as a tuple.
py::object sequence_items(PyObject* object) {
  if (PyList_Check(object) || PyTuple_Check(object)) return py::reinterpret_borrow<py::object>(object);
  PyObject* items = PySequence_Fast(object, "[tensor] expected a sequence");
  if (items == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(items);
}

class NestedScan {
 public:
  DimVector shape;
  std::optional<DType> dtype;  // promoted over every number seen; none when there are none

  void scan(PyObject* object, size_t depth) {
    if (!is_sequence(object)) return scan_number(object, depth);
    TG_CHECK_VALUE(!leaf_depth_ || depth < *leaf_depth_, "tensor", "ragged nested sequence: expected a number at dim ",
                   depth, " (got ", type_name(object), ")");
    py::object items = sequence_items(object);
    const int64_t length = PySequence_Fast_GET_SIZE(items.ptr());
    if (depth == shape.size()) {
      // Also what bounds the recursion (and write_values' after it) on any input.
      TG_CHECK_VALUE(depth < static_cast<size_t>(kMaxDims), "tensor", "too many dimensions: ", type_name(object),
                     "s nested deeper than ", kMaxDims, " levels (tapegrad tensors have at most ", kMaxDims, " dims)");
      shape.push_back(length);
    } else {
      TG_CHECK_VALUE(shape[depth] == length, "tensor", "ragged nested sequence: expected a sequence of length ",
                     shape[depth], " at dim ", depth, " (got ", length, ")");
    }
    PyObject** item = PySequence_Fast_ITEMS(items.ptr());
    for (int64_t i = 0; i < length; ++i) scan(item[i], depth + 1);
  }

 private:
  std::optional<size_t> leaf_depth_;

  void scan_number(PyObject* object, size_t depth) {
    TG_CHECK_VALUE(depth == shape.size(), "tensor", "ragged nested sequence: expected a sequence of length ",
                   shape[depth], " at dim ", depth, " (got ", type_name(object), ")");
    leaf_depth_ = depth;
    DType kind;
    if (PyFloat_CheckExact(object)) kind = default_dtype();
    else if (PyBool_Check(object)) kind = DType::Bool;
    else if (PyLong_CheckExact(object)) kind = DType::Int64;
    else if (is_tensor(object)) {
      const Tensor tensor = as_tensor(object);
      TG_CHECK_VALUE(tensor.numel() == 1, "tensor", "only one-element tensors can be converted to Python scalars; got a "
                     "tensor of shape ", tensor.sizes(), " inside the data");
      kind = tensor.dtype();
    } else if (is_scalar(object) || is_zero_dim_array(object)) {
      // NumPy scalars and 0-dim arrays keep their dtype, as in PyTorch (np.float64 is also a
      // Python float).
      kind = py::hasattr(object, "dtype") ? widened_dtype(py::handle(object).attr("dtype"), "tensor")
                                          : to_scalar(object, "tensor").default_dtype_for();
    } else {
      fail<TypeError>("tensor", "can't convert an element of type ", type_name(object), " to a number");
    }
    dtype = dtype ? promote_types(*dtype, kind) : kind;
  }
};

// A number stored into the new tensor: float32 takes overflowing floats as inf (as PyTorch's
// tensor() does); integer dtypes refuse what they cannot hold.
template <typename T>
T stored_value(Scalar value) {
  return std::is_floating_point_v<T> ? value.to<T>() : value.checked_to<T>("tensor");
}

template <typename T>
T number_value(PyObject* object) {
  if (PyFloat_Check(object)) return stored_value<T>(Scalar(PyFloat_AS_DOUBLE(object)));
  if (PyBool_Check(object)) return static_cast<T>(object == Py_True);
  if (PyLong_Check(object)) {
    if constexpr (std::is_floating_point_v<T>) {
      const double value = PyLong_AsDouble(object);  // ints past int64 still fit a float tensor
      if (value == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      return static_cast<T>(value);
    } else {
      int overflow = 0;
      const long long value = PyLong_AsLongLongAndOverflow(object, &overflow);
      TG_CHECK_VALUE(overflow == 0, "tensor", "integer ", py::str(object).cast<std::string>(), " does not fit in int64");
      return stored_value<T>(Scalar(static_cast<int64_t>(value)));
    }
  }
  // One-element tensors, NumPy scalars and 0-dim arrays, through the Python number they hold.
  py::object item = py::handle(object).attr("item")();
  return number_value<T>(item.ptr());
}

template <typename T>
void write_values(PyObject* object, const DimVector& shape, size_t depth, T*& out) {
  if (depth == shape.size()) {
    *out++ = number_value<T>(object);
    return;
  }
  py::object items = sequence_items(object);
  const int64_t length = PySequence_Fast_GET_SIZE(items.ptr());
  // A __float__ or __index__ of some element could have changed a list since the scan.
  TG_CHECK(length == shape[depth], "tensor", "the data changed while it was being converted");
  PyObject** item = PySequence_Fast_ITEMS(items.ptr());
  for (int64_t i = 0; i < length; ++i) write_values(item[i], shape, depth + 1, out);
}

Tensor from_nested(py::handle data, std::optional<DType> dtype) {
  NestedScan scan;
  scan.scan(data.ptr(), 0);
  const DType target = dtype ? *dtype : scan.dtype ? *scan.dtype : default_dtype();
  Tensor out = Tensor::empty(scan.shape, target, Device{}, "tensor");
  dispatch_all(target, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* cursor = out.data_ptr<T>();
    write_values(data.ptr(), scan.shape, 0, cursor);
  });
  return out;
}

}  // namespace

// ---- NumPy -----------------------------------------------------------------------------------

// The tensor viewing a NumPy array's memory; the array stays alive while any view of it does.
Tensor from_numpy(const py::array& array) {
  const std::optional<DType> dtype = exact_dtype(array.dtype());
  TG_CHECK_TYPE(dtype.has_value(), "from_numpy", "can't share the memory of a NumPy array of dtype ",
                numpy_dtype_name(array.dtype()), "; supported: float32, float64, int32, int64 and bool "
                "(tapegrad.tensor(array) converts other dtypes)");
  const int64_t item = static_cast<int64_t>(itemsize(*dtype));
  DimVector sizes, strides;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    const int64_t stride = array.strides(d);
    TG_CHECK_VALUE(stride >= 0 || array.shape(d) <= 1, "from_numpy", "arrays with negative strides are not supported "
                   "(strides ", py::str(array.attr("strides")).cast<std::string>(), "); pass array.copy()");
    TG_CHECK_VALUE(stride % item == 0, "from_numpy", "strides ", py::str(array.attr("strides")).cast<std::string>(),
                   " must be multiples of the item size ", item);
    sizes.push_back(array.shape(d));
    strides.push_back(stride < 0 ? 0 : stride / item);
  }
  if (array.size() == 0) strides = contiguous_strides(sizes);  // NumPy's strides of an empty array are arbitrary
  if (!array.writeable() &&
      PyErr_WarnEx(PyExc_UserWarning, "[from_numpy] the given NumPy array is not writable, and tapegrad tensors "
                   "always are: writing to this tensor writes to memory NumPy treats as read-only. Copy the "
                   "array, or make it writable, first.", 1) != 0)
    throw py::error_already_set();  // the warning was made an error
  PyObject* owner = array.ptr();
  Py_INCREF(owner);
  auto storage = Storage::wrap(const_cast<void*>(array.data()), extent_bytes(sizes, strides, *dtype), Device{}, [owner] {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(owner);
  });
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), std::move(sizes), std::move(strides), 0, *dtype));
}

namespace {

// A NumPy array sharing the tensor's memory; a capsule keeps the storage alive for the array.
py::array share_with_numpy(const Tensor& self, const char* op) {
  TG_CHECK(self.device().is_cpu(), op, "can't convert a ", self.device().str(), " tensor; use .cpu() first");
  const int64_t item = static_cast<int64_t>(itemsize(self.dtype()));
  std::vector<py::ssize_t> shape(self.sizes().begin(), self.sizes().end());
  std::vector<py::ssize_t> strides;
  for (int64_t stride : self.strides()) strides.push_back(byte_stride(stride, item));
  auto* keep_alive = new std::shared_ptr<Storage>(self.impl()->storage());
  py::capsule owner(keep_alive, [](void* pointer) { delete static_cast<std::shared_ptr<Storage>*>(pointer); });
  return py::array(numpy_dtype(self.dtype()), shape, strides, self.raw_data(), owner);
}

// As PyTorch: allowed in no_grad mode (where, e.g., a view of a parameter reports requires_grad).
void check_no_grad(const Tensor& self, const char* op) {
  TG_CHECK(!(GradMode::is_enabled() && self.requires_grad()), op, "can't call numpy() on a tensor that "
           "requires grad; use tensor.detach().numpy() instead");
}

// A copy of a NumPy array (any dtype tensor() accepts) as a new tensor, dense and with the array's
// order of dims in memory (a transposed array's copy is transposed), as PyTorch's tensor() copies.
Tensor copy_numpy(const py::array& array, std::optional<DType> dtype) {
  const DType source = widened_dtype(array.dtype(), "tensor");  // refuses object, string and complex arrays
  const DType target = dtype.value_or(source);
  py::array copy = py::module_::import("numpy").attr("array")(array, numpy_dtype(target), py::arg("copy") = true,
                                                              py::arg("order") = "K");
  return from_numpy(copy);
}

Tensor tensor_from_data(py::handle data, std::optional<DType> dtype) {
  if (is_tensor(data)) return to_dtype(as_tensor(data).detach(), dtype ? *dtype : as_tensor(data).dtype(), /*copy=*/true);
  if (py::isinstance<py::array>(data)) return copy_numpy(py::reinterpret_borrow<py::array>(data), dtype);
  if (is_scalar(data) || is_sequence(data.ptr())) return from_nested(data, dtype);
  // Anything else NumPy understands (objects with __array__, the buffer protocol, ...).
  if (py::hasattr(data, "__array__") || PyObject_CheckBuffer(data.ptr()))
    return copy_numpy(py::module_::import("numpy").attr("asarray")(data), dtype);
  fail<TypeError>("tensor", "can't make a tensor from an object of type ", type_name(data),
                  "; expected numbers, nested sequences of numbers, NumPy arrays or tensors");
}

Tensor as_tensor_from_data(py::handle data, std::optional<DType> dtype) {
  if (is_tensor(data)) return dtype ? to_dtype(as_tensor(data), *dtype) : as_tensor(data);
  if (py::isinstance<py::array>(data)) {
    py::array array = py::reinterpret_borrow<py::array>(data);
    const std::optional<DType> exact = exact_dtype(array.dtype());
    bool shareable = exact && (!dtype || *dtype == *exact);
    for (py::ssize_t d = 0; shareable && d < array.ndim(); ++d) shareable = array.strides(d) >= 0;
    if (shareable) return from_numpy(array);
  }
  return tensor_from_data(data, dtype);
}

// ---- the buffer protocol ---------------------------------------------------------------------
// Written against the C API rather than pybind11's def_buffer so that each exported view holds the
// storage itself: `t.data = other` while a memoryview of t is alive must not free its memory.

struct ExportedBuffer {
  std::shared_ptr<Storage> storage;
  std::vector<Py_ssize_t> shape, strides;
};

const char* buffer_format(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "?";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float32: return "f";
    case DType::Float64: return "d";
  }
  return "B";
}

extern "C" int tensor_getbuffer(PyObject* object, Py_buffer* view, int flags) {
  view->obj = nullptr;
  try {
    const Tensor self = py::handle(object).cast<Tensor>();
    if (self.requires_grad() || !self.device().is_cpu()) {
      PyErr_SetString(PyExc_BufferError, self.requires_grad()
                                             ? "[buffer] can't export a tensor that requires grad; use tensor.detach()"
                                             : "[buffer] only CPU tensors export their memory; use .cpu() first");
      return -1;
    }
    auto exported = std::make_unique<ExportedBuffer>();
    exported->storage = self.impl()->storage();
    const auto item = static_cast<Py_ssize_t>(itemsize(self.dtype()));
    for (int64_t d = 0; d < self.dim(); ++d) {
      exported->shape.push_back(self.sizes()[d]);
      exported->strides.push_back(byte_stride(self.strides()[d], item));
    }
    view->buf = self.raw_data();
    view->len = static_cast<Py_ssize_t>(self.numel()) * item;
    view->itemsize = item;
    view->readonly = 0;
    view->format = (flags & PyBUF_FORMAT) == PyBUF_FORMAT ? const_cast<char*>(buffer_format(self.dtype())) : nullptr;
    view->ndim = static_cast<int>(self.dim());
    view->shape = exported->shape.data();
    view->strides = exported->strides.data();
    view->suboffsets = nullptr;
    const bool c_contiguous = PyBuffer_IsContiguous(view, 'C');
    const char* refusal = nullptr;
    if ((flags & PyBUF_C_CONTIGUOUS) == PyBUF_C_CONTIGUOUS && !c_contiguous) refusal = "C-contiguous";
    else if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS && !PyBuffer_IsContiguous(view, 'F')) refusal = "Fortran-contiguous";
    else if ((flags & PyBUF_ANY_CONTIGUOUS) == PyBUF_ANY_CONTIGUOUS && !PyBuffer_IsContiguous(view, 'A')) refusal = "contiguous";
    else if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES && !c_contiguous) refusal = "C-contiguous (no strides requested)";
    if (refusal != nullptr) {
      PyErr_Format(PyExc_BufferError, "[buffer] the tensor is not %s; call .contiguous() first", refusal);
      return -1;
    }
    if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES) view->strides = nullptr;
    if ((flags & PyBUF_ND) != PyBUF_ND) view->shape = nullptr;
    view->internal = exported.release();
    Py_INCREF(object);  // not Py_NewRef: the package supports Python 3.9
    view->obj = object;
    return 0;
  } catch (...) {
    view->obj = nullptr;
    PyErr_SetString(PyExc_BufferError, "[buffer] could not export the tensor's memory");
    return -1;
  }
}

extern "C" void tensor_releasebuffer(PyObject*, Py_buffer* view) { delete static_cast<ExportedBuffer*>(view->internal); }

// ---- DLPack ----------------------------------------------------------------------------------

DLDataType dlpack_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool: return {kDLBool, 8, 1};
    case DType::Int32: return {kDLInt, 32, 1};
    case DType::Int64: return {kDLInt, 64, 1};
    case DType::Float32: return {kDLFloat, 32, 1};
    case DType::Float64: return {kDLFloat, 64, 1};
  }
  return {kDLOpaqueHandle, 0, 0};
}

std::optional<DType> dtype_from_dlpack(DLDataType dtype) {
  if (dtype.lanes != 1) return std::nullopt;
  if (dtype.code == kDLFloat && dtype.bits == 32) return DType::Float32;
  if (dtype.code == kDLFloat && dtype.bits == 64) return DType::Float64;
  if (dtype.code == kDLInt && dtype.bits == 32) return DType::Int32;
  if (dtype.code == kDLInt && dtype.bits == 64) return DType::Int64;
  if (dtype.code == kDLBool && dtype.bits == 8) return DType::Bool;
  return std::nullopt;
}

// What an exported capsule owns: the storage (kept alive until the consumer calls the deleter)
// and the shape and strides arrays the DLTensor points into.
struct DLPackExport {
  std::shared_ptr<Storage> storage;
  std::vector<int64_t> shape, strides;
  DLManagedTensor legacy{};
  DLManagedTensorVersioned versioned{};
};

template <typename Managed>
void delete_export(Managed* managed) {
  delete static_cast<DLPackExport*>(managed->manager_ctx);
}

// Called when the capsule dies: the deleter runs here only if no consumer took ownership (a consumer
// renames the capsule to "used_..." and calls the deleter itself, so it runs exactly once).
template <typename Managed>
void capsule_destructor(PyObject* capsule, const char* name) {
  if (!PyCapsule_IsValid(capsule, name)) return;
  auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
  if (managed != nullptr && managed->deleter != nullptr) managed->deleter(managed);
}

extern "C" void legacy_capsule_destructor(PyObject* capsule) { capsule_destructor<DLManagedTensor>(capsule, "dltensor"); }
extern "C" void versioned_capsule_destructor(PyObject* capsule) {
  capsule_destructor<DLManagedTensorVersioned>(capsule, "dltensor_versioned");
}

py::object to_dlpack(const Tensor& source, bool versioned, bool copy) {
  const Tensor self = copy ? clone(source) : source;
  auto exported = std::make_unique<DLPackExport>();
  exported->storage = self.impl()->storage();
  exported->shape.assign(self.sizes().begin(), self.sizes().end());
  exported->strides.assign(self.strides().begin(), self.strides().end());
  DLTensor tensor{};
  tensor.data = self.raw_data();
  tensor.device = {kDLCPU, 0};
  tensor.ndim = static_cast<int32_t>(self.dim());
  tensor.dtype = dlpack_dtype(self.dtype());
  tensor.shape = exported->shape.data();
  tensor.strides = exported->strides.data();
  tensor.byte_offset = 0;
  DLPackExport* raw = exported.get();
  PyObject* capsule;
  if (versioned) {
    raw->versioned = {{kDLPackMajorVersion, kDLPackMinorVersion}, raw, delete_export<DLManagedTensorVersioned>,
                      copy ? kDLPackFlagIsCopied : 0, tensor};
    capsule = PyCapsule_New(&raw->versioned, "dltensor_versioned", versioned_capsule_destructor);
  } else {
    raw->legacy = {tensor, raw, delete_export<DLManagedTensor>};
    capsule = PyCapsule_New(&raw->legacy, "dltensor", legacy_capsule_destructor);
  }
  if (capsule == nullptr) throw py::error_already_set();
  exported.release();  // the capsule owns it now
  return py::reinterpret_steal<py::object>(capsule);
}

// Takes ownership of a DLPack capsule's tensor: the producer's deleter runs when the last tapegrad
// tensor viewing it goes away.
template <typename Managed>
Tensor import_managed(py::handle capsule, const char* name, const char* used_name, uint64_t flags) {
  auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(capsule.ptr(), name));
  if (managed == nullptr) throw py::error_already_set();
  const DLTensor& source = managed->dl_tensor;
  // Everything is checked before the capsule is marked used, so a refusal leaves the deleter to it.
  TG_CHECK(source.device.device_type == kDLCPU, "from_dlpack", "only CPU memory can be imported (DLPack device type ",
           source.device.device_type, ")");
  TG_CHECK(!(flags & kDLPackFlagReadOnly), "from_dlpack", "the producer marked its memory read-only; tapegrad tensors "
           "are always writable, so import a copy instead");
  const std::optional<DType> dtype = dtype_from_dlpack(source.dtype);
  TG_CHECK_TYPE(dtype.has_value(), "from_dlpack", "unsupported DLPack dtype (code ", int(source.dtype.code), ", bits ",
                int(source.dtype.bits), ", lanes ", source.dtype.lanes, "); tapegrad has float32, float64, int32, int64 and bool");
  TG_CHECK(source.ndim >= 0, "from_dlpack", "negative ndim ", source.ndim);
  DimVector sizes(source.shape, source.shape + source.ndim);
  DimVector strides = source.strides ? DimVector(source.strides, source.strides + source.ndim) : contiguous_strides(sizes);
  for (int32_t d = 0; d < source.ndim; ++d) {
    TG_CHECK(sizes[d] >= 0, "from_dlpack", "negative size in shape ", sizes);
    TG_CHECK_VALUE(strides[d] >= 0 || sizes[d] <= 1, "from_dlpack", "negative strides are not supported (strides ",
                   strides, "); import a copy");
    if (strides[d] < 0) strides[d] = 0;
  }
  char* data = static_cast<char*>(source.data) + source.byte_offset;
  const size_t nbytes = extent_bytes(sizes, strides, *dtype);
  if (PyCapsule_SetName(capsule.ptr(), used_name) != 0) throw py::error_already_set();
  auto storage = Storage::wrap(data, nbytes, Device{}, [managed] {
    if (managed->deleter == nullptr) return;
    if (!Py_IsInitialized()) return managed->deleter(managed);
    py::gil_scoped_acquire gil;  // producers such as NumPy release Python objects in their deleter
    managed->deleter(managed);
  });
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), std::move(sizes), std::move(strides), 0, *dtype));
}

Tensor from_dlpack(py::handle source) {
  py::object capsule;
  if (PyCapsule_CheckExact(source.ptr())) {
    capsule = py::reinterpret_borrow<py::object>(source);
  } else {
    TG_CHECK_TYPE(py::hasattr(source, "__dlpack__"), "from_dlpack", "expected an object with __dlpack__ or a DLPack "
                  "capsule, got ", type_name(source));
    if (py::hasattr(source, "__dlpack_device__")) {
      py::tuple device = source.attr("__dlpack_device__")();
      const int device_type = py::int_(device[0]);
      TG_CHECK(device_type == kDLCPU, "from_dlpack", "only CPU memory can be imported; the object is on DLPack device ",
               py::str(device).cast<std::string>());
    }
    try {
      capsule = source.attr("__dlpack__")(py::arg("max_version") = py::make_tuple(kDLPackMajorVersion, kDLPackMinorVersion));
    } catch (py::error_already_set& error) {
      if (!error.matches(PyExc_TypeError)) throw;
      capsule = source.attr("__dlpack__")();  // a producer from before max_version
    }
  }
  const char* name = PyCapsule_GetName(capsule.ptr());
  const std::string capsule_name = name ? name : "";
  if (capsule_name == "dltensor_versioned") {
    auto* managed = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), name));
    if (managed == nullptr) throw py::error_already_set();
    TG_CHECK(managed->version.major == kDLPackMajorVersion, "from_dlpack", "DLPack version ", managed->version.major, ".",
             managed->version.minor, " is not supported (tapegrad reads ", kDLPackMajorVersion, ".x)");
    return import_managed<DLManagedTensorVersioned>(capsule, "dltensor_versioned", "used_dltensor_versioned",
                                                    managed->flags);
  }
  if (capsule_name == "dltensor") return import_managed<DLManagedTensor>(capsule, "dltensor", "used_dltensor", 0);
  TG_CHECK_VALUE(capsule_name.rfind("used_", 0) != 0, "from_dlpack", "this DLPack capsule was already consumed");
  fail<ValueError>("from_dlpack", "expected a capsule named 'dltensor' or 'dltensor_versioned', got '", capsule_name, "'");
}

std::optional<DType> optional_dtype(py::handle dtype, const char* op) {
  if (dtype.is_none()) return std::nullopt;
  return to_dtype(dtype, op);
}

void check_cpu(py::handle device, const char* op) {
  const Device target = to_device(device, op);
  TG_CHECK(target.is_cpu(), op, "device ", target.str(), " is not available in this build");
}

}  // namespace

void bind_interop(py::module_& module, TensorClass& tensor) {
  module.def("tensor", [](py::handle data, DTypeArgument dtype, DeviceArgument device, bool requires_grad) {
    check_cpu(device, "tensor");
    Tensor out = tensor_from_data(data, optional_dtype(dtype, "tensor"));
    if (requires_grad) out.requires_grad_(true);
    return out;
  }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false,
     "A new tensor holding a copy of `data`: a number, nested lists/tuples of numbers (ragged ones raise\n"
     "ValueError naming the dimension), a NumPy array or anything with __array__, or a tensor.\n"
     "dtype is inferred as in PyTorch: bool -> bool, int -> int64, float -> the default dtype, mixed\n"
     "kinds promote, NumPy arrays and scalars keep theirs. NumPy dtypes tapegrad lacks widen to one\n"
     "that holds every value: int8/uint8/int16/uint16 -> int32, uint32 -> int64, float16 -> float32.", docstring("tensor"));

  module.def("as_tensor", [](py::handle data, DTypeArgument dtype, DeviceArgument device) {
    check_cpu(device, "as_tensor");
    return as_tensor_from_data(data, optional_dtype(dtype, "as_tensor"));
  }, py::arg("data"), py::arg("dtype") = py::none(), py::kw_only(), py::arg("device") = py::none(),
     "`data` itself when it is a tensor of that dtype, a view of a NumPy array's memory when the\n"
     "dtypes match and the strides are non-negative, and otherwise a copy as tensor(data) makes.", docstring("as_tensor"));
  module.def("from_numpy", [](py::handle object) {
    TG_CHECK_TYPE(py::isinstance<py::array>(object), "from_numpy", "expected np.ndarray, got ", type_name(object));
    return from_numpy(py::reinterpret_borrow<py::array>(object));
  }, py::arg("ndarray"), docstring("from_numpy"));
  module.def("from_dlpack", [](py::handle source) { return from_dlpack(source); }, py::arg("ext_tensor"), docstring("from_dlpack"));

  tensor.def("numpy", [](const Tensor& self, bool force) {
    // force=True detaches, as in PyTorch; the array still shares memory with the tensor.
    if (!force) check_no_grad(self, "numpy");
    return share_with_numpy(self, "numpy");
  }, py::kw_only(), py::arg("force") = false, docstring("numpy"));
  // NumPy 2's protocol: copy=None shares when it can, copy=False must share or raise, copy=True copies.
  // No __array_priority__: tapegrad's operators return NotImplemented for NumPy arrays, so mixed
  // arithmetic is NumPy's (reading the tensor through the buffer protocol) and gives an array; a
  // priority above NumPy's would make `array + tensor` raise instead.
  tensor.def("__array__", [](const Tensor& self, DTypeArgument dtype, py::handle copy) -> py::object {
    check_no_grad(self, "__array__");
    py::array shared = share_with_numpy(self, "__array__");
    const bool must_copy = !copy.is_none() && copy.cast<bool>();
    const bool must_share = !copy.is_none() && !copy.cast<bool>();
    if (dtype.is_none() || py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype)).equal(shared.dtype()))
      return must_copy ? shared.attr("copy")() : py::object(shared);
    TG_CHECK_VALUE(!must_share, "__array__", "converting a ", dtype_name(self.dtype()), " tensor to NumPy dtype ",
                   numpy_dtype_name(py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype))),
                   " needs a copy, but copy=False was given");
    return shared.attr("astype")(dtype);
  }, py::arg("dtype") = py::none(), py::arg("copy") = py::none(), docstring("__array__"));

  tensor.def("__dlpack__", [](const Tensor& self, py::handle stream, py::handle max_version, py::handle dl_device,
                              py::handle copy) {
    TG_CHECK(!self.requires_grad(), "__dlpack__", "can't export a tensor that requires grad; use tensor.detach()");
    TG_CHECK(self.device().is_cpu(), "__dlpack__", "only CPU tensors can be exported in this build");
    if (!stream.is_none()) throw py::buffer_error("[__dlpack__] stream must be None for CPU tensors");
    if (!dl_device.is_none()) {
      py::tuple device = py::reinterpret_borrow<py::tuple>(dl_device);
      if (py::int_(device[0]).cast<int>() != kDLCPU || py::int_(device[1]).cast<int>() != 0)
        throw py::buffer_error("[__dlpack__] can only export to the CPU, (1, 0); asked for " +
                               py::str(dl_device).cast<std::string>());
    }
    const bool versioned = !max_version.is_none() &&
                           py::int_(py::reinterpret_borrow<py::tuple>(max_version)[0]).cast<int>() >= 1;
    return to_dlpack(self, versioned, !copy.is_none() && copy.cast<bool>());
  }, py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
     py::arg("dl_device") = py::none(), py::arg("copy") = py::none(), docstring("__dlpack__"));
  tensor.def("__dlpack_device__", [](const Tensor& self) {
    TG_CHECK(self.device().is_cpu(), "__dlpack_device__", "only CPU tensors are supported in this build");
    return py::make_tuple(static_cast<int>(kDLCPU), 0);
  }, docstring("__dlpack_device__"));

  auto* heap_type = reinterpret_cast<PyHeapTypeObject*>(tensor.ptr());
  heap_type->as_buffer.bf_getbuffer = tensor_getbuffer;
  heap_type->as_buffer.bf_releasebuffer = tensor_releasebuffer;
}

}  // namespace tg::python
