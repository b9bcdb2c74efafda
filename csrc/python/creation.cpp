// Creation functions, random number generation, dtype conversion and the in-place fills.
#include "bindings.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"

namespace tg::python {

namespace {

DType dtype_or_default(py::handle dtype, const char* op) { return dtype.is_none() ? default_dtype() : to_dtype(dtype, op); }

// Applies the requires_grad= keyword every creation function takes.
Tensor finish(Tensor tensor, bool requires_grad) {
  if (requires_grad) tensor.requires_grad_(true);
  return tensor;
}

DimVector shape_from(const py::args& args, py::handle size, const char* op) {
  if (!size.is_none()) {
    TG_CHECK_TYPE(args.empty(), "[", op, "] got the shape both positionally and as size=");
    return to_shape(size, op);
  }
  return to_shape(args, op);
}

template <typename Make>
void bind_filled(py::module_& module, const char* name, Make make) {
  module.def(name, [=](py::args args, py::object size, py::object dtype, py::object device, bool requires_grad) {
    return finish(make(shape_from(args, size, name), dtype_or_default(dtype, name), to_device(device, name)), requires_grad);
  }, py::kw_only(), py::arg("size") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false);
}

template <typename Make>
void bind_like(py::module_& module, const char* name, Make make) {
  module.def(name, [=](const Tensor& like, py::object dtype, py::object device, bool requires_grad) {
    const DType out_dtype = dtype.is_none() ? like.dtype() : to_dtype(dtype, name);
    const Device out_device = device.is_none() ? like.device() : to_device(device, name);
    return finish(make(like.sizes(), out_dtype, out_device), requires_grad);
  }, py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false);
}

// Python's number kind decides arange's default dtype, as in PyTorch.
bool any_float(std::initializer_list<py::handle> values) {
  for (py::handle value : values)
    if (!value.is_none() && (PyFloat_Check(value.ptr()) || (is_scalar(value) && to_scalar(value, "arange").is_floating())))
      return true;
  return false;
}

}  // namespace

void bind_creation(py::module_& module, TensorClass& tensor) {
  bind_filled(module, "empty", [](const DimVector& s, DType d, Device v) { return empty(s, d, v); });
  bind_filled(module, "zeros", [](const DimVector& s, DType d, Device v) { return zeros(s, d, v); });
  bind_filled(module, "ones", [](const DimVector& s, DType d, Device v) { return ones(s, d, v); });
  bind_filled(module, "rand", [](const DimVector& s, DType d, Device v) { return rand(s, d, v); });
  bind_filled(module, "randn", [](const DimVector& s, DType d, Device v) { return randn(s, d, v); });
  bind_like(module, "empty_like", [](const DimVector& s, DType d, Device v) { return empty(s, d, v); });
  bind_like(module, "zeros_like", [](const DimVector& s, DType d, Device v) { return zeros(s, d, v); });
  bind_like(module, "ones_like", [](const DimVector& s, DType d, Device v) { return ones(s, d, v); });
  bind_like(module, "rand_like", [](const DimVector& s, DType d, Device v) { return rand(s, d, v); });
  bind_like(module, "randn_like", [](const DimVector& s, DType d, Device v) { return randn(s, d, v); });

  module.def("full", [](py::handle size, py::handle value, py::object dtype, py::object device, bool requires_grad) {
    const Scalar fill = to_scalar(value, "full");
    const DType out_dtype = dtype.is_none() ? fill.default_dtype_for() : to_dtype(dtype, "full");
    return finish(full(to_shape(size, "full"), fill, out_dtype, to_device(device, "full")), requires_grad);
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false);
  module.def("full_like", [](const Tensor& like, py::handle value, py::object dtype, py::object device, bool requires_grad) {
    const DType out_dtype = dtype.is_none() ? like.dtype() : to_dtype(dtype, "full_like");
    return finish(full(like.sizes(), to_scalar(value, "full_like"), out_dtype,
                       device.is_none() ? like.device() : to_device(device, "full_like")), requires_grad);
  }, py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false);

  module.def("arange", [](py::handle first, py::handle second, py::handle step, py::object dtype, py::object device,
                          bool requires_grad) {
    const bool one_bound = second.is_none();
    const Scalar start = one_bound ? Scalar(int64_t{0}) : to_scalar(first, "arange");
    const Scalar end = to_scalar(one_bound ? first : second, "arange");
    const DType out_dtype = !dtype.is_none() ? to_dtype(dtype, "arange")
                            : any_float({first, second, step}) ? default_dtype() : DType::Int64;
    return finish(arange(start, end, to_scalar(step, "arange"), out_dtype, to_device(device, "arange")), requires_grad);
  }, py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false);
  module.def("linspace", [](double start, double end, int64_t steps, py::object dtype, py::object device, bool requires_grad) {
    return finish(linspace(start, end, steps, dtype_or_default(dtype, "linspace"), to_device(device, "linspace")), requires_grad);
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false);
  module.def("eye", [](int64_t n, py::object m, py::object dtype, py::object device, bool requires_grad) {
    return finish(eye(n, m.is_none() ? n : m.cast<int64_t>(), dtype_or_default(dtype, "eye"), to_device(device, "eye")),
                  requires_grad);
  }, py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false);

  module.def("manual_seed", [](int64_t seed) { manual_seed(static_cast<uint64_t>(seed)); });
  module.def("initial_seed", [] { return initial_seed(); });
  module.def("randint", [](int64_t low, py::object high, py::handle size, py::object dtype, py::object device) {
    // randint(high, size), randint(high, size=size) or randint(low, high, size), as in PyTorch:
    // with two numbers given, the second is `high` only if a size follows it.
    const bool low_omitted = size.is_none() || high.is_none();
    TG_CHECK_TYPE(!(size.is_none() && high.is_none()), "[randint] expected randint(high, size) or randint(low, high, size)");
    const int64_t lower = low_omitted ? 0 : low;
    const int64_t upper = low_omitted ? low : high.cast<int64_t>();
    const DimVector shape = to_shape(size.is_none() ? high : size, "randint");
    return randint(lower, upper, shape, dtype.is_none() ? DType::Int64 : to_dtype(dtype, "randint"), to_device(device, "randint"));
  }, py::arg("low"), py::arg("high") = py::none(), py::arg("size") = py::none(), py::kw_only(),
     py::arg("dtype") = py::none(), py::arg("device") = py::none());
  module.def("randperm", [](int64_t n, py::object dtype, py::object device) {
    return randperm(n, dtype.is_none() ? DType::Int64 : to_dtype(dtype, "randperm"), to_device(device, "randperm"));
  }, py::arg("n"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none());

  tensor.def("uniform_", [](Tensor& self, double from, double to) -> Tensor& { return uniform_(self, from, to); },
             py::arg("a") = 0.0, py::arg("b") = 1.0);
  tensor.def("normal_", [](Tensor& self, double mean, double std) -> Tensor& { return normal_(self, mean, std); },
             py::arg("mean") = 0.0, py::arg("std") = 1.0);
  tensor.def("fill_", [](Tensor& self, py::handle value) -> Tensor& {
    if (is_tensor(value)) {
      const Tensor source = as_tensor(value);
      TG_CHECK(source.dim() == 0, "[fill_] only supports 0-dimension value tensors, got shape ", source.sizes());
      return copy_(self, source);
    }
    return fill_(self, to_scalar(value, "fill_"));
  });
  tensor.def("zero_", [](Tensor& self) -> Tensor& { return zero_(self); });
  tensor.def("copy_", [](Tensor& self, const Tensor& source) -> Tensor& { return call_releasing_gil(copy_, self, source); });

  // to(dtype), to(device), to(device, dtype), to(other), with copy=.
  tensor.def("to", [](const Tensor& self, py::args args, py::object dtype, py::object device, bool copy) {
    DType target = self.dtype();
    Device target_device = self.device();
    for (py::handle arg : args) {
      if (is_tensor(arg)) {
        target = as_tensor(arg).dtype();
        target_device = as_tensor(arg).device();
      } else if (py::isinstance<py::str>(arg) || py::hasattr(arg, "index")) {
        target_device = to_device(arg, "to");
      } else {
        target = to_dtype(arg, "to");
      }
    }
    if (!dtype.is_none()) target = to_dtype(dtype, "to");
    if (!device.is_none()) target_device = to_device(device, "to");
    TG_CHECK(target_device.type == self.device().type, "[to] moving tensors to ", target_device.str(),
             " is not supported in this build");
    return call_releasing_gil(&tg::to_dtype, self, target, copy);
  }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("copy") = false);
  tensor.def("type", [](const Tensor& self, py::object dtype) -> py::object {
    if (dtype.is_none()) return py::str(std::string("tapegrad.") + dtype_name(self.dtype()));
    return py::cast(call_releasing_gil(&tg::to_dtype, self, to_dtype(dtype, "type"), false));
  }, py::arg("dtype") = py::none());
  const std::pair<const char*, DType> conversions[] = {
      {"float", DType::Float32}, {"double", DType::Float64}, {"long", DType::Int64}, {"int", DType::Int32}, {"bool", DType::Bool}};
  for (auto [name, dtype] : conversions)
    tensor.def(name, [dtype = dtype](const Tensor& self) { return call_releasing_gil(&tg::to_dtype, self, dtype, false); });
  tensor.def("cpu", [](const Tensor& self) { return self; });
}

}  // namespace tg::python
