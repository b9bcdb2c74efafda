// The Tensor class: metadata, conversion to Python values, and autograd attributes.
#include <functional>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/view.h"

namespace tg::python {

// ---- attributes that outlive their Python object ---------------------------------------------
// PyTorch keeps a tensor's Python object alive for as long as its TensorImpl. tapegrad lets it
// die (pybind11 makes a new one when the tensor next crosses into Python) and keeps what cannot be
// remade: a non-empty __dict__ is stashed on the TensorImpl when the object dies while the
// TensorImpl lives on (w.grad.tag = 1 survives, though w.grad is a new object each time), and it
// moves into the next object made for that TensorImpl. The common path pays a pointer test when a
// tensor crosses into Python and a few loads when its object dies.
// Not kept: the class and attributes of instances of Python subclasses (CPython clears their
// __dict__ before the base class's dealloc runs) and weak references. A stashed dict that refers
// back to its own tensor through C++ (holding a tensor whose .grad is this one, say) is a cycle
// the garbage collector cannot see: it lives until the interpreter exits.

namespace {

destructor g_pybind_dealloc = nullptr;

// The dealloc callback of a stash: the last owner of a TensorImpl may let go of it on any thread.
void release_python_object(void* object) {
  if (!Py_IsInitialized()) return;  // the interpreter, and the dict with it, is gone
  py::gil_scoped_acquire gil;
  Py_DECREF(static_cast<PyObject*>(object));
}

// The instance's __dict__ as a new reference, or null when it has none or an empty one; never
// makes a dict that does not exist yet.
PyObject* nonempty_dict(PyObject* self) {
#if PY_VERSION_HEX >= 0x030D0000
  bool has_attributes = false;
  PyObject_VisitManagedDict(self, [](PyObject*, void* seen) { return *static_cast<bool*>(seen) = true, 0; },
                            &has_attributes);
  if (!has_attributes) return nullptr;
  PyObject* dict = PyObject_GenericGetDict(self, nullptr);
  if (dict == nullptr) PyErr_Clear();
#else
  PyObject** slot = _PyObject_GetDictPtr(self);
  PyObject* dict = slot ? *slot : nullptr;
  Py_XINCREF(dict);
#endif
  if (dict != nullptr && PyDict_GET_SIZE(dict) == 0) Py_CLEAR(dict);
  return dict;
}

extern "C" void tensor_dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);  // nothing below may let the collector see a dying object
  auto holder = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
  if (holder.holder_constructed()) {
    const auto& impl = holder.holder<std::shared_ptr<TensorImpl>>();
    if (impl.use_count() > 1) {
      if (PyObject* dict = nonempty_dict(self)) impl->set_python_state({dict, release_python_object});
    }
  }
  g_pybind_dealloc(self);
}

}  // namespace

void restore_python_state(py::handle object, TensorImpl& impl) {
  const TensorImpl::PythonState state = impl.take_python_state();
  if (PyObject_GenericSetDict(object.ptr(), static_cast<PyObject*>(state.get()), nullptr) != 0) PyErr_Clear();
}

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

// PyTorch's RemovableHandle, which Tensor.register_hook and Module's register_*_hook both return:
// remove() (or leaving a `with` block) takes the hook off, and removing twice is harmless. A
// tensor hook goes through the core's HookHandle; a Module hook, made from Python as
// RemovableHandle(hooks) before the hook goes in hooks[handle.id], is popped from that dict.
class RemovableHandle {
 public:
  explicit RemovableHandle(const HookHandle& hook) : id_(hook.id()), remove_([hook] { hook.remove(); }) {}
  explicit RemovableHandle(py::dict hooks) : id_(next_module_hook_id_++) {
    remove_ = [hooks = std::move(hooks), id = id_] { hooks.attr("pop")(id, py::none()); };
  }
  uint64_t id() const { return id_; }
  void remove() const { remove_(); }

 private:
  static inline uint64_t next_module_hook_id_ = 0;  // under the GIL
  uint64_t id_;
  std::function<void()> remove_;
};

void bind_removable_handle(py::module_& module) {
  py::class_<RemovableHandle>(module, "RemovableHandle", docstring("RemovableHandle"))
      .def(py::init<py::dict>(), py::arg("hooks"))
      .def("remove", &RemovableHandle::remove, docstring("remove"))
      .def_property_readonly("id", &RemovableHandle::id, docstring("id"))
      .def("__enter__", [](py::object self) { return self; }, docstring("__enter__"))
      .def("__exit__", [](const RemovableHandle& handle, py::args) { handle.remove(); }, docstring("__exit__"));
}

// A Python hook as backward may hold it. Backward runs without the GIL: the hook retakes it to
// call Python, and the last reference to the function (which may go with a tensor freed in C++)
// drops under it.
std::shared_ptr<py::function> held_for_backward(py::function function) {
  return std::shared_ptr<py::function>(new py::function(std::move(function)), [](py::function* held) {
    py::gil_scoped_acquire gil;
    delete held;
  });
}
}  // namespace

void bind_tensor(py::module_& module, TensorClass& tensor) {
  bind_removable_handle(module);
  tensor
      // Tensor(other) aliases other's data (what Parameter(data) builds on); Tensor() is empty. The
      // legacy forms, Tensor(data) copying data and Tensor(*sizes) uninitialised, in the default
      // dtype, are parsed in Python (tapegrad/_legacy.py), where the typed constructors share them.
      .def(py::init([](const py::args& args, const py::kwargs& kwargs) {
             if (args.empty() && kwargs.empty()) return Tensor::empty({0}, default_dtype()).impl_ptr();
             if (args.size() == 1 && kwargs.empty()) {
               if (args[0].is_none()) return Tensor::empty({0}, default_dtype()).impl_ptr();
               if (is_tensor(args[0])) return as_tensor(args[0]).detach().impl_ptr();
             }
             const py::object legacy_new = py::module_::import("tapegrad._legacy").attr("legacy_new");
             return as_tensor(legacy_new(dtype_object(default_dtype()), args, kwargs)).impl_ptr();
           }))
      .def_property_readonly("shape", [](const Tensor& self) { return make_size(self.sizes()); }, docstring("shape"))
      .def("size", [](const Tensor& self, Dim dim) -> py::object {
             if (dim.is_none()) return make_size(self.sizes());
             return py::int_(self.size(to_dim(dim, "size")));
           }, py::arg("dim") = py::none(), docstring("size"))
      .def("dim", [](const Tensor& self) { return self.dim(); }, docstring("dim"))
      .def_property_readonly("ndim", [](const Tensor& self) { return self.dim(); }, docstring("ndim"))
      .def("ndimension", [](const Tensor& self) { return self.dim(); }, docstring("ndimension"))
      .def("numel", [](const Tensor& self) { return self.numel(); }, docstring("numel"))
      .def("nelement", [](const Tensor& self) { return self.numel(); }, docstring("nelement"))
      .def("element_size", [](const Tensor& self) { return itemsize(self.dtype()); }, docstring("element_size"))
      .def_property_readonly("dtype", [](const Tensor& self) { return dtype_object(self.dtype()); }, docstring("dtype"))
      .def_property_readonly("device", [](const Tensor& self) { return device_object(self.device()); }, docstring("device"))
      .def_property_readonly("is_cuda", [](const Tensor& self) { return self.device().type == DeviceType::CUDA; }, docstring("is_cuda"))
      .def("stride", [](const Tensor& self, Dim dim) -> py::object {
             if (dim.is_none()) return py::tuple(py::cast(std::vector<int64_t>(self.strides().begin(), self.strides().end())));
             return py::int_(self.stride(to_dim(dim, "stride")));
           }, py::arg("dim") = py::none(), docstring("stride"))
      .def("storage_offset", [](const Tensor& self) { return self.storage_offset(); }, docstring("storage_offset"))
      .def("is_contiguous", [](const Tensor& self) { return self.is_contiguous(); }, docstring("is_contiguous"))
      .def("is_floating_point", [](const Tensor& self) { return is_floating(self.dtype()); }, docstring("is_floating_point"))
      .def("data_ptr", [](const Tensor& self) { return reinterpret_cast<uintptr_t>(self.raw_data()); }, docstring("data_ptr"))
      .def_property_readonly("_version", [](const Tensor& self) {
        // PyTorch's inference tensors have no counter; tapegrad's keep one but do not show it.
        TG_CHECK(!self.impl()->is_inference(), "_version", "Inference tensors do not track version counter.");
        return self.impl()->version();
      })
      .def("is_inference", [](const Tensor& self) { return self.impl()->is_inference(); }, docstring("is_inference"))
      .def("_is_view", [](const Tensor& self) { return self.impl()->is_view(); })
      .def_property_readonly("_base", [](const Tensor& self) {
        return self.impl()->is_view() ? Tensor(self.impl()->view_base()) : Tensor();
      })
      .def("__len__", [](const Tensor& self) {
        TG_CHECK_TYPE(self.dim() > 0, "len", "len() of a 0-d tensor");
        return self.sizes()[0];
      }, docstring("__len__"))
      // The rows along dim 0, made up front as PyTorch's unbind makes them: one select each, with
      // none of __getitem__'s key parsing.
      .def("__iter__", [](const Tensor& self) {
        TG_CHECK_TYPE(self.dim() > 0, "iter", "iteration over a 0-d tensor");
        py::list rows(self.sizes()[0]);
        for (int64_t i = 0; i < self.sizes()[0]; ++i) PyList_SET_ITEM(rows.ptr(), i, py::cast(select(self, 0, i)).release().ptr());
        return py::iter(rows);
      }, docstring("__iter__"))
      .def("item", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "item", "a Tensor with ", self.numel(), " elements cannot be converted to a Python number");
        return element_to_python(self, 0);
      }, docstring("item"))
      .def("tolist", [](const Tensor& self) { return to_list(self, 0, 0); }, docstring("tolist"))
      .def("__bool__", [](const Tensor& self) {
        TG_CHECK(self.numel() == 1, "bool", "the truth value of a tensor with ", self.numel(),
                 " elements is ambiguous; use .any() or .all()");
        return py::bool_(element_to_python(self, 0));
      }, docstring("__bool__"))
      .def("__float__", [](const Tensor& self) {
        TG_CHECK_VALUE(self.numel() == 1, "float", "only one-element tensors can be converted to Python scalars, got ",
                       self.numel(), " elements");
        return py::float_(element_to_python(self, 0));
      }, docstring("__float__"))
      .def("__int__", [](const Tensor& self) {
        TG_CHECK_VALUE(self.numel() == 1, "int", "only one-element tensors can be converted to Python scalars, got ",
                       self.numel(), " elements");
        return py::int_(element_to_python(self, 0));
      }, docstring("__int__"))
      .def("__index__", [](const Tensor& self) {
        TG_CHECK_TYPE(self.numel() == 1 && !is_floating(self.dtype()) && self.dtype() != DType::Bool,
                      "index", "only integer tensors of a single element can be converted to an index");
        return py::int_(element_to_python(self, 0));
      }, docstring("__index__"))
      .def("__hash__", [](const Tensor& self) { return reinterpret_cast<intptr_t>(self.impl()); }, docstring("__hash__"))
      // Its whole storage as a 1-D tensor: what copy.deepcopy and pickle copy, as PyTorch's do, so
      // that views keep sharing memory and strides survive.
      .def("_storage_tensor", [](const Tensor& self) {
        const int64_t count = static_cast<int64_t>(self.impl()->storage()->nbytes() / itemsize(self.dtype()));
        return as_strided(self.detach(), {count}, {1}, 0);
      })

      // Autograd attributes.
      .def_property("requires_grad", [](const Tensor& self) { return self.requires_grad(); },
                    [](Tensor& self, bool value) { self.requires_grad_(value); }, docstring("requires_grad"))
      .def("requires_grad_", [](Tensor& self, bool value) { return self.requires_grad_(value); },
           py::arg("requires_grad") = true, docstring("requires_grad_"))
      .def_property("grad", [](const Tensor& self) { return self.grad(); }, [](const Tensor& self, py::handle grad) {
             TG_CHECK_TYPE(grad.is_none() || is_tensor(grad),
                           "grad", "assigned grad expected to be a Tensor or None but got grad of type ",
                           type_name(grad));
             self.set_grad(grad.is_none() ? Tensor() : as_tensor(grad));
           }, docstring("grad"))
      .def_property_readonly("grad_fn", [](const Tensor& self) { return self.grad_fn(); }, docstring("grad_fn"))
      .def_property_readonly("is_leaf", [](const Tensor& self) { return self.is_leaf(); }, docstring("is_leaf"))
      .def_property_readonly("retains_grad", [](const Tensor& self) { return self.retains_grad(); }, docstring("retains_grad"))
      .def("retain_grad", [](const Tensor& self) { return self.retain_grad(); }, docstring("retain_grad"))
      .def("detach", [](const Tensor& self) { return self.detach(); }, docstring("detach"))
      .def("detach_", [](Tensor& self) { return self.detach_(); }, docstring("detach_"))
      // .data: a detached alias counting versions on its own; assigning swaps what this tensor views,
      // keeping its identity.
      .def_property("data", [](const Tensor& self) { return self.variable_data(); },
                    [](const Tensor& self, py::handle data) { self.set_data(to_tensor(data, "data", "data")); }, docstring("data"))
      .def("register_hook", [](const Tensor& self, py::function function) {
        std::shared_ptr<py::function> hook = held_for_backward(std::move(function));
        const uint64_t id = self.register_hook([hook](const Tensor& grad) -> Tensor {
          py::gil_scoped_acquire gil;
          py::object result = (*hook)(grad);
          if (result.is_none()) return Tensor();
          TG_CHECK_TYPE(is_tensor(result), "hook", "a tensor hook must return None or a Tensor, but it returned ",
                        type_name(result));
          return as_tensor(result);
        });
        return RemovableHandle(HookHandle(self, id));
      }, py::arg("hook"), docstring("register_hook"))
      .def("register_post_accumulate_grad_hook", [](const Tensor& self, py::function function) {
        std::shared_ptr<py::function> hook = held_for_backward(std::move(function));
        const uint64_t id = register_post_accumulate_grad_hook(self, [hook](const Tensor& tensor) {
          py::gil_scoped_acquire gil;
          TG_CHECK((*hook)(tensor).is_none(), "hook", "Tensor post accumulate grad hooks should return None.");
        });
        return RemovableHandle(HookHandle(self, id));
      }, py::arg("hook"), docstring("register_post_accumulate_grad_hook"))
      .def("backward", [](const Tensor& self, py::object gradient, py::object retain_graph, bool create_graph) {
             const Tensor seed = to_optional_tensor(gradient, "backward", "gradient");
             std::optional<bool> retain;
             if (!retain_graph.is_none()) retain = retain_graph.cast<bool>();
             py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
             self.backward(seed, retain, create_graph);
           },
           py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false, docstring("backward"));

  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  g_pybind_dealloc = type->tp_dealloc;
  type->tp_dealloc = tensor_dealloc;
}

}  // namespace tg::python
