// NumPy and friends: from_numpy / numpy() sharing memory both ways.
#include <pybind11/numpy.h>

#include "bindings.h"

namespace tg::python {

namespace {

DType dtype_from_numpy(const py::dtype& dtype) {
  const char kind = dtype.kind();
  const size_t size = dtype.itemsize();
  if (kind == 'f' && size == 4) return DType::Float32;
  if (kind == 'f' && size == 8) return DType::Float64;
  if (kind == 'i' && size == 4) return DType::Int32;
  if (kind == 'i' && size == 8) return DType::Int64;
  if (kind == 'b' && size == 1) return DType::Bool;
  fail<TypeError>("[from_numpy] can't convert a NumPy array of dtype ", py::str(dtype).cast<std::string>(),
                  "; supported: float32, float64, int32, int64 and bool");
}

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::Bool: return py::dtype::of<bool>();
    case DType::Int32: return py::dtype::of<int32_t>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
  }
  fail<Error>("unknown dtype");
}

}  // namespace

// The tensor viewing a NumPy array's memory; the array stays alive while any view of it does.
Tensor from_numpy(const py::array& array) {
  const DType dtype = dtype_from_numpy(array.dtype());
  const int64_t item = static_cast<int64_t>(itemsize(dtype));
  DimVector sizes, strides;
  int64_t lowest = 0, highest = 0;
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    const int64_t stride = array.strides(d);
    TG_CHECK_VALUE(stride >= 0, "[from_numpy] arrays with negative strides are not supported (strides ",
                   py::str(py::tuple(array.attr("strides"))).cast<std::string>(), "); pass array.copy()");
    TG_CHECK_VALUE(stride % item == 0, "[from_numpy] strides must be multiples of the item size ", item);
    sizes.push_back(array.shape(d));
    strides.push_back(stride / item);
    if (array.shape(d) > 0) highest += (array.shape(d) - 1) * stride;
  }
  (void)lowest;
  const size_t nbytes = array.size() == 0 ? 0 : static_cast<size_t>(highest + item);
  PyObject* owner = array.ptr();
  Py_INCREF(owner);
  auto storage = Storage::wrap(const_cast<void*>(array.data()), nbytes, Device{}, [owner] {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(owner);
  });
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), std::move(sizes), std::move(strides), 0, dtype));
}

void bind_interop(py::module_& module, TensorClass& tensor) {
  module.def("from_numpy", [](py::handle object) {
    TG_CHECK_TYPE(py::isinstance<py::array>(object), "[from_numpy] expected np.ndarray, got ",
                  py::str(py::type::of(object).attr("__name__")).cast<std::string>());
    return from_numpy(py::reinterpret_borrow<py::array>(object));
  });
  tensor.def("numpy", [](const Tensor& self, bool force) {
    TG_CHECK(force || !self.requires_grad(),
             "[numpy] can't call numpy() on a tensor that requires grad; use tensor.detach().numpy() instead");
    TG_CHECK(self.device().is_cpu(), "[numpy] can't convert a ", self.device().str(), " tensor; use .cpu() first");
    const int64_t item = static_cast<int64_t>(itemsize(self.dtype()));
    std::vector<py::ssize_t> shape(self.sizes().begin(), self.sizes().end());
    std::vector<py::ssize_t> strides;
    for (int64_t stride : self.strides()) strides.push_back(stride * item);
    // The array keeps the storage alive through a capsule, whatever happens to this tensor later.
    auto* keep_alive = new std::shared_ptr<Storage>(self.impl()->storage());
    py::capsule owner(keep_alive, [](void* pointer) { delete static_cast<std::shared_ptr<Storage>*>(pointer); });
    return py::array(numpy_dtype(self.dtype()), shape, strides, self.raw_data(), owner);
  }, py::kw_only(), py::arg("force") = false);
}

}  // namespace tg::python
