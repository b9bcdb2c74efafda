// The Tensor class: metadata, conversion to Python values, and autograd attributes.
#include "bindings.h"
#include "tapegrad/autograd/engine.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/ops/copy.h"

namespace tg::python {

namespace {

py::object element_to_python(const Tensor& tensor, int64_t offset) {
  const char* base = static_cast<const char*>(tensor.raw_data());
  return dispatch_all(tensor.dtype(), [&](auto tag) -> py::object {
    using T = typename decltype(tag)::type;
    const T value = reinterpret_cast<const T*>(base)[offset];
    if constexpr (std::is_same_v<T, bool>) return py::bool_(value);
    else if constexpr (std::is_integral_v<T>) return py::int_(static_cast<int64_t>(value));
    else return py::float_(static_cast<double>(value));
  });
}

py::object to_list(const Tensor& tensor, int64_t dim, int64_t offset) {
  if (dim == tensor.dim()) return element_to_python(tensor, offset);
  const int64_t size = tensor.sizes()[dim];
  py::list list(size);
  for (int64_t i = 0; i < size; ++i)
    PyList_SET_ITEM(list.ptr(), i, to_list(tensor, dim + 1, offset + i * tensor.strides()[dim]).release().ptr());
  return list;
}

}  // namespace

void bind_tensor(py::module_& module, TensorClass& tensor) {
  tensor
      // Tensor(other) aliases other's data (what Parameter(data) builds on); Tensor() is empty.
      .def(py::init([](py::object data) {
             if (data.is_none()) return Tensor::empty({0}, default_dtype()).impl_ptr();
             TG_CHECK_TYPE(is_tensor(data), "[Tensor] expected a tensor to alias; use tapegrad.tensor(data) to copy data");
             return as_tensor(data).detach().impl_ptr();
           }),
           py::arg("data") = py::none())
      .def_property_readonly("shape", [](const Tensor& self) { return make_size(self.sizes()); })
      .def("size", [](const Tensor& self, py::object dim) -> py::object {
             if (dim.is_none()) return make_size(self.sizes());
             return py::int_(self.size(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none())
      .def("dim", [](const Tensor& self) { return self.dim(); })
      .def_property_readonly("ndim", [](const Tensor& self) { return self.dim(); })
      .def("ndimension", [](const Tensor& self) { return self.dim(); })
      .def("numel", [](const Tensor& self) { return self.numel(); })
      .def("nelement", [](const Tensor& self) { return self.numel(); })
      .def("element_size", [](const Tensor& self) { return itemsize(self.dtype()); })
      .def_property_readonly("dtype", [](const Tensor& self) { return dtype_object(self.dtype()); })
      .def_property_readonly("device", [](const Tensor& self) { return self.device().str(); })
      .def_property_readonly("is_cuda", [](const Tensor& self) { return self.device().type == DeviceType::CUDA; })
      .def("stride", [](const Tensor& self, py::object dim) -> py::object {
             if (dim.is_none()) return py::tuple(py::cast(std::vector<int64_t>(self.strides().begin(), self.strides().end())));
             return py::int_(self.stride(dim.cast<int64_t>()));
           }, py::arg("dim") = py::none())
      .def("storage_offset", [](const Tensor& self) { return self.storage_offset(); })
      .def("is_contiguous", [](const Tensor& self) { return self.is_contiguous(); })
      .def("is_floating_point", [](const Tensor& self) { return is_floating(self.dtype()); })
      .def("data_ptr", [](const Tensor& self) { return reinterpret_cast<uintptr_t>(self.raw_data()); })
      .def_property_readonly("_version", [](const Tensor& self) { return self.impl()->version(); })
      .def_property_readonly("_base_is_view", [](const Tensor& self) { return self.impl()->is_view(); })
      .def("__len__", [](const Tensor& self) {
        TG_CHECK_TYPE(self.dim() > 0, "[len] len() of a 0-d tensor");
        return self.sizes()[0];
      })
      .def("item", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "[item] a Tensor with ", self.numel(), " elements cannot be converted to a Python number");
        return element_to_python(self, 0);
      })
      .def("tolist", [](const Tensor& self) { return to_list(self, 0, 0); })
      .def("__bool__", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "[bool] the truth value of a tensor with ", self.numel(),
                 " elements is ambiguous; use .any() or .all()");
        return py::bool_(element_to_python(self, 0));
      })
      .def("__float__", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "[float] only one-element tensors can be converted to Python scalars");
        return py::float_(element_to_python(self, 0));
      })
      .def("__int__", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "[int] only one-element tensors can be converted to Python scalars");
        return py::int_(element_to_python(self, 0));
      })
      .def("__index__", [](const Tensor& self) {
        TG_CHECK_TYPE(self.numel() == 1 && !is_floating(self.dtype()) && self.dtype() != DType::Bool,
                      "[index] only integer tensors of a single element can be converted to an index");
        return py::int_(element_to_python(self, 0));
      })
      .def("__hash__", [](const Tensor& self) { return reinterpret_cast<intptr_t>(self.impl()); })

      // Autograd attributes.
      .def_property("requires_grad", [](const Tensor& self) { return self.requires_grad(); },
                    [](Tensor& self, bool value) { self.requires_grad_(value); })
      .def("requires_grad_", [](Tensor& self, bool value) { return self.requires_grad_(value); },
           py::arg("requires_grad") = true)
      .def_property("grad", [](const Tensor& self) { return self.grad(); }, [](const Tensor& self, py::object grad) {
             self.set_grad(grad.is_none() ? Tensor() : grad.cast<Tensor>());
           })
      .def_property_readonly("grad_fn", [](const Tensor& self) { return self.grad_fn(); })
      .def_property_readonly("is_leaf", [](const Tensor& self) { return self.is_leaf(); })
      .def_property_readonly("retains_grad", [](const Tensor& self) { return self.retains_grad(); })
      .def("retain_grad", [](const Tensor& self) { return self.retain_grad(); })
      .def("detach", [](const Tensor& self) { return self.detach(); })
      .def("detach_", [](Tensor& self) {
        if (AutogradMeta* meta = self.impl()->autograd()) {
          meta->grad_fn = nullptr;
          meta->requires_grad = false;
        }
        return self;
      })
      // .data: a detached alias; assigning swaps what this tensor views, keeping its identity.
      .def_property("data", [](const Tensor& self) { return self.detach(); }, [](Tensor& self, const Tensor& data) {
             TensorImpl* impl = self.impl();
             impl->set_layout(data.impl()->storage(), data.sizes(), data.strides(), data.storage_offset(), data.dtype());
           })
      .def("register_hook", [](const Tensor& self, py::function function) {
        // Backward runs without the GIL: the hook retakes it to call Python, and the last
        // reference to the function (which may go with a tensor freed in C++) drops under it.
        std::shared_ptr<py::function> hook(new py::function(std::move(function)), [](py::function* held) {
          py::gil_scoped_acquire gil;
          delete held;
        });
        self.register_hook([hook](const Tensor& grad) -> Tensor {
          py::gil_scoped_acquire gil;
          py::object result = (*hook)(grad);
          if (result.is_none()) return Tensor();
          TG_CHECK_TYPE(is_tensor(result), "[hook] a tensor hook must return None or a Tensor");
          return as_tensor(result);
        });
        return py::none();
      })
      .def("backward", [](const Tensor& self, py::object gradient, py::object retain_graph, bool create_graph) {
             const Tensor seed = gradient.is_none() ? Tensor() : gradient.cast<Tensor>();
             std::optional<bool> retain;
             if (!retain_graph.is_none()) retain = retain_graph.cast<bool>();
             py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
             self.backward(seed, retain, create_graph);
           },
           py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false);
}

}  // namespace tg::python
