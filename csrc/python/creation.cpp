// Creation functions, random number generation, dtype and device conversion and the in-place fills.
#include <array>
#include <cstring>
#include <memory>
#include <random>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/sampling.h"
#include "tapegrad/ops/view.h"

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
    TG_CHECK_TYPE(args.empty(), op, "got the shape both positionally and as size=");
    return to_shape(size, op);
  }
  return to_shape(args, op);
}

template <typename Make>
void bind_filled(py::module_& module, const char* name, Make make) {
  module.def(name, [=](py::args args, py::object size, DTypeArgument dtype, DeviceArgument device, bool requires_grad) {
    return finish(make(shape_from(args, size, name), dtype_or_default(dtype, name), to_device(device, name)), requires_grad);
  }, py::kw_only(), py::arg("size") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false, docstring(name));
}

// ---- random streams ----------------------------------------------------------------------
// tapegrad.Generator: a random stream of its own, a core Generator with its own state and mutex
// (so a Generator seeded with s draws exactly what the global stream draws after manual_seed(s),
// and threads may draw from one at once). default_generator is the global stream: no Generator of
// its own, its state is the core's.
struct GeneratorObject {
  std::shared_ptr<Generator> generator;  // null for default_generator
};

GeneratorObject new_generator(const RngState& state) {
  GeneratorObject object{std::make_shared<Generator>()};
  object.generator->state = state;
  return object;
}

RngState state_of(const GeneratorObject& object) {
  if (!object.generator) return get_rng_state();
  const std::lock_guard lock(object.generator->mutex);
  return object.generator->state;
}

void set_state_of(GeneratorObject& object, const RngState& state) {
  if (!object.generator) return set_rng_state(state);
  const std::lock_guard lock(object.generator->mutex);
  object.generator->state = state;
}

// A seed as PyTorch takes it: an int in [-2^63, 2^64), a negative one read as its 64-bit two's
// complement (-1 is 2^64 - 1); outside that range a ValueError, as PyTorch's overflow is.
uint64_t to_seed(py::handle value, const char* op) {
  TG_CHECK_TYPE(!PyBool_Check(value.ptr()), op, "expected an int seed, got bool");
  PyObject* index = PyNumber_Index(value.ptr());
  if (index == nullptr) throw py::error_already_set();
  const py::object seed = py::reinterpret_steal<py::object>(index);
  int overflow = 0;
  const long long as_signed = PyLong_AsLongLongAndOverflow(seed.ptr(), &overflow);
  if (overflow == 0) return static_cast<uint64_t>(as_signed);
  if (overflow > 0) {
    const unsigned long long as_unsigned = PyLong_AsUnsignedLongLong(seed.ptr());
    if (!PyErr_Occurred()) return as_unsigned;
    PyErr_Clear();
  }
  fail<ValueError>(op, "seed must be within the inclusive range [-0x8000_0000_0000_0000, "
                   "0xffff_ffff_ffff_ffff], got ", py::str(seed).cast<std::string>());
}

// The state as 7 words: the seed, the four xoshiro words, the spare-normal flag and its bits.
// get_state()/get_rng_state() return them as an int64 tensor, which set_state() takes back.
constexpr int64_t state_words = 7;
using StateWords = std::array<uint64_t, state_words>;

StateWords words_of(const RngState& state) {
  StateWords words = {state.seed, state.words[0], state.words[1], state.words[2], state.words[3],
                      state.has_spare_normal, 0};
  std::memcpy(&words[6], &state.spare_normal, sizeof(double));
  return words;
}

RngState state_of_words(const StateWords& words, const char* op) {
  TG_CHECK(words[5] <= 1, op, "invalid state: the spare-normal flag is ", words[5]);
  TG_CHECK(words[1] | words[2] | words[3] | words[4], op, "invalid state: the generator words are all zero");
  RngState state{words[0], {words[1], words[2], words[3], words[4]}, words[5] == 1, 0.0};
  std::memcpy(&state.spare_normal, &words[6], sizeof(double));
  return state;
}

Tensor state_tensor(const RngState& state) {
  Tensor out = Tensor::empty({state_words}, DType::Int64);
  const StateWords words = words_of(state);
  std::memcpy(out.data_ptr<int64_t>(), words.data(), sizeof(words));
  return out;
}

RngState state_from(py::handle object, const char* op) {
  TG_CHECK_TYPE(is_tensor(object), op, "expects the tensor get_state() returned, got ",
                type_name(object));
  const Tensor tensor = contiguous(as_tensor(object));
  TG_CHECK(tensor.dtype() == DType::Int64 && tensor.dim() == 1 && tensor.numel() == state_words, op, "expects an int64 tensor of shape (", state_words, ") as get_state() returns, got ",
           dtype_name(tensor.dtype()), " of shape ", tensor.sizes());
  StateWords words;
  std::memcpy(words.data(), tensor.data_ptr<int64_t>(), sizeof(words));
  return state_of_words(words, op);
}

// The core Generator that `generator` (None or a Generator) stands for; null for the default one.
Generator* generator_of(py::handle generator, const char* op) {
  if (generator.is_none()) return nullptr;
  TG_CHECK_TYPE(py::isinstance<GeneratorObject>(generator), op, "generator must be a tapegrad.Generator, got ",
                type_name(generator));
  return generator.cast<GeneratorObject&>().generator.get();
}

void bind_generator(py::module_& module) {
  py::class_<GeneratorObject>(module, "Generator",
                              "A random stream of its own, for the generator= argument (as torch.Generator).")
      .def(py::init([](DeviceArgument device) {
        TG_CHECK(to_device(device, "Generator").type == DeviceType::CPU, "Generator", "only CPU generators exist in "
                 "this build, got device ", py::str(device).cast<std::string>());
        return new_generator(seeded_rng_state(default_rng_seed));
      }), py::arg("device") = "cpu")
      .def("manual_seed", [](GeneratorObject& self, py::handle seed) -> GeneratorObject& {
        set_state_of(self, seeded_rng_state(to_seed(seed, "Generator.manual_seed")));
        return self;
      }, py::arg("seed"), py::return_value_policy::reference, docstring("manual_seed"))
      .def("seed", [](GeneratorObject& self) {
        std::random_device entropy;
        const uint64_t seed = (static_cast<uint64_t>(entropy()) << 32) | entropy();
        set_state_of(self, seeded_rng_state(seed));
        return seed;
      }, docstring("seed"))
      .def("initial_seed", [](const GeneratorObject& self) { return state_of(self).seed; }, docstring("initial_seed"))
      .def("get_state", [](const GeneratorObject& self) { return state_tensor(state_of(self)); }, docstring("get_state"))
      .def("set_state", [](GeneratorObject& self, py::handle state) -> GeneratorObject& {
        set_state_of(self, state_from(state, "Generator.set_state"));
        return self;
      }, py::arg("new_state"), py::return_value_policy::reference, docstring("set_state"))
      .def_property_readonly("device", [](const GeneratorObject&) { return py::str("cpu"); }, docstring("device"))
      // A copy is an independent stream at the same position (the default one copies to a plain one).
      .def("__deepcopy__", [](const GeneratorObject& self, py::handle) { return new_generator(state_of(self)); }, docstring("__deepcopy__"))
      .def("__copy__", [](const GeneratorObject& self) { return new_generator(state_of(self)); }, docstring("__copy__"))
      .def(py::pickle([](const GeneratorObject& self) { return words_of(state_of(self)); },
                      [](const StateWords& words) { return new_generator(state_of_words(words, "Generator")); }));

  const py::object default_generator = py::cast(GeneratorObject{});
  module.attr("default_generator") = default_generator;
  module.def("manual_seed", [default_generator](py::handle seed) {
    PyObject* as_int = PyNumber_Long(seed.ptr());  // int(seed), as PyTorch's manual_seed
    if (as_int == nullptr) throw py::error_already_set();
    manual_seed(to_seed(py::reinterpret_steal<py::object>(as_int), "manual_seed"));
    return default_generator;
  }, py::arg("seed"), docstring("manual_seed"));
  module.def("seed", [default_generator] { return default_generator.attr("seed")(); }, docstring("seed"));
  module.def("initial_seed", [] { return initial_seed(); }, docstring("initial_seed"));
  module.def("get_rng_state", [] { return state_tensor(get_rng_state()); }, docstring("get_rng_state"));
  module.def("set_rng_state", [](py::handle state) { set_rng_state(state_from(state, "set_rng_state")); },
             py::arg("new_state"), docstring("set_rng_state"));
}

// rand and randn take generator= besides what every filled-tensor maker takes.
template <typename Make>
void bind_random(py::module_& module, const char* name, Make make) {
  module.def(name, [=](py::args args, py::object size, GeneratorArgument generator, DTypeArgument dtype, DeviceArgument device,
                       bool requires_grad) {
    const DimVector shape = shape_from(args, size, name);
    const DType out_dtype = dtype_or_default(dtype, name);
    const Device out_device = to_device(device, name);
    const GeneratorScope scope(generator_of(generator, name));
    return finish(make(shape, out_dtype, out_device), requires_grad);
  }, py::kw_only(), py::arg("size") = py::none(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring(name));
}

// A new tensor like `like` (its dtype and device unless given), laid out as PyTorch's
// preserve_format lays it out (a transposed tensor's zeros_like is transposed), with `fill`
// writing its values through `flat`, all of its memory as one contiguous run.
template <typename Fill>
Tensor make_like(const Tensor& like, py::handle dtype, py::handle device, const char* op, Fill fill) {
  const DType out_dtype = dtype.is_none() ? like.dtype() : to_dtype(dtype, op);
  const Device out_device = device.is_none() ? like.device() : to_device(device, op);
  Tensor out = Tensor::empty_like_layout(like, out_dtype, out_device, op);
  Tensor flat = as_strided(out, {out.numel()}, {1}, 0);  // a dense layout starts at 0 and has no gaps
  fill(flat, out_dtype);
  return out;
}

template <typename Fill>
void bind_like(py::module_& module, const char* name, Fill fill) {
  module.def(name, checked(name, {"input"}, [=](const Tensor& like, DTypeArgument dtype, DeviceArgument device,
                                                 bool requires_grad) {
    return finish(make_like(like, dtype, device, name, fill), requires_grad);
  }), py::arg("input"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false, docstring(name));
}

bool to_bool(py::handle value, const char* op, const char* name) {
  TG_CHECK_TYPE(PyBool_Check(value.ptr()), op, "argument '", name, "' must be bool, not ",
                type_name(value));
  return value.ptr() == Py_True;
}

// What to_device takes: a name, a tapegrad or torch device, or a bare CUDA index.
bool is_device_like(py::handle object) {
  return py::isinstance<py::str>(object) || py::isinstance<Device>(object) ||
         (PyLong_Check(object.ptr()) && !PyBool_Check(object.ptr())) ||
         (py::hasattr(object, "type") && py::hasattr(object, "index") && !is_dtype(object));
}

// Moving a tensor needs the target device's backend; this build has only the CPU's.
void check_device_available(Device device, const char* op) {
  TG_CHECK(device.is_cpu(), op, "this build of tapegrad has no CUDA support (tapegrad.cuda.is_available() is "
           "False), so tensors cannot move to '", device.str(), "'");
}

// Python's number kind decides arange's default dtype, as in PyTorch.
bool any_float(std::initializer_list<py::handle> values) {
  for (py::handle value : values)
    if (!value.is_none() && (PyFloat_Check(value.ptr()) || (is_scalar(value) && to_scalar(value, "arange").is_floating())))
      return true;
  return false;
}

// to_dtype, releasing the GIL only when there is data to convert: to the tensor's own dtype without
// copy=True it hands back the tensor itself.
Tensor converted(const Tensor& self, DType target, bool copy_data) {
  const int64_t work = target == self.dtype() && !copy_data ? 0 : self.numel();
  return run_releasing_gil(work, [&] { return to_dtype(self, target, copy_data, MemoryFormat::Preserve); });
}

// PyTorch's legacy tensor type names, which x.type() gives and the typed constructors
// (tapegrad.FloatTensor, ...) are named after.
const char* legacy_type_name(DType dtype) {
  switch (dtype) {
    case DType::Bool: return "BoolTensor";
    case DType::Int32: return "IntTensor";
    case DType::Int64: return "LongTensor";
    case DType::Float32: return "FloatTensor";
    case DType::Float64: return "DoubleTensor";
  }
  return "Tensor";
}

// x.type(t)'s t: a dtype, a legacy type name ("tapegrad.DoubleTensor", or "torch.DoubleTensor" as
// ported code spells it) or a typed constructor class (which carries its dtype).
DType to_legacy_type(py::handle object, const char* op) {
  if (py::isinstance<py::str>(object)) {
    std::string name = object.cast<std::string>();
    for (const char* prefix : {"tapegrad.", "torch."})
      if (name.starts_with(prefix)) name = name.substr(std::string_view(prefix).size());
    for (DType dtype : {DType::Bool, DType::Int32, DType::Int64, DType::Float32, DType::Float64})
      if (name == legacy_type_name(dtype)) return dtype;
  } else if (PyType_Check(object.ptr()) && py::hasattr(object, "dtype")) {
    return to_dtype(object.attr("dtype"), op);
  }
  return to_dtype(object, op);
}

}  // namespace

void bind_creation(py::module_& module, TensorClass& tensor) {
  bind_filled(module, "empty", [](const DimVector& s, DType d, Device v) { return empty(s, d, v); });
  bind_filled(module, "zeros", [](const DimVector& s, DType d, Device v) { return zeros(s, d, v); });
  bind_filled(module, "ones", [](const DimVector& s, DType d, Device v) { return ones(s, d, v); });
  bind_random(module, "rand", [](const DimVector& s, DType d, Device v) { return rand(s, d, v); });
  bind_random(module, "randn", [](const DimVector& s, DType d, Device v) { return randn(s, d, v); });
  bind_like(module, "empty_like", [](Tensor&, DType) {});
  bind_like(module, "zeros_like", [](Tensor& flat, DType) { fill_(flat, Scalar(0)); });
  bind_like(module, "ones_like", [](Tensor& flat, DType) { fill_(flat, Scalar(1)); });
  bind_like(module, "rand_like", [](Tensor& flat, DType) { uniform_(flat, 0.0, 1.0); });
  bind_like(module, "randn_like", [](Tensor& flat, DType) { normal_(flat, 0.0, 1.0); });

  module.def("full", [](py::handle size, py::handle value, DTypeArgument dtype, DeviceArgument device, bool requires_grad) {
    const Scalar fill = to_scalar(value, "full");
    const DType out_dtype = dtype.is_none() ? fill.default_dtype_for() : to_dtype(dtype, "full");
    return finish(full(to_shape(size, "full"), fill, out_dtype, to_device(device, "full")), requires_grad);
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("full"));
  module.def("full_like", checked("full_like", {"input"}, [](const Tensor& like, py::handle value, DTypeArgument dtype,
                                                             DeviceArgument device, bool requires_grad) {
    const Scalar fill = to_scalar(value, "full_like");
    return finish(make_like(like, dtype, device, "full_like", [&](Tensor& flat, DType out_dtype) {
                    fill.check_fits(out_dtype, "full_like");
                    fill_(flat, fill);
                  }), requires_grad);
  }), py::arg("input"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("full_like"));
  // randint_like(input, high) or randint_like(input, low, high), as in PyTorch.
  module.def("randint_like", checked("randint_like", {"input"}, [](const Tensor& like, Integer low, Integer high,
                                                                   DTypeArgument dtype, DeviceArgument device,
                                                                   bool requires_grad) {
    TG_CHECK_TYPE(!low.is_none() || !high.is_none(), "randint_like", "expected randint_like(input, high) or "
                  "randint_like(input, low, high)");
    const int64_t lower = high.is_none() || low.is_none() ? 0 : to_int(low, "randint_like", "low");
    const int64_t upper = high.is_none() ? to_int(low, "randint_like", "high") : to_int(high, "randint_like", "high");
    return finish(make_like(like, dtype, device, "randint_like", [&](Tensor& flat, DType out_dtype) {
                    copy_(flat, randint(lower, upper, flat.sizes(), out_dtype, flat.device()));
                  }), requires_grad);
  }), py::arg("input"), py::arg("low") = py::none(), py::arg("high") = py::none(), py::kw_only(),
     py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("randint_like"));

  module.def("arange", [](py::handle first, py::handle second, py::handle step, DTypeArgument dtype, DeviceArgument device,
                          bool requires_grad) {
    const bool one_bound = second.is_none();
    const Scalar start = one_bound ? Scalar(int64_t{0}) : to_scalar(first, "arange");
    const Scalar end = to_scalar(one_bound ? first : second, "arange");
    const DType out_dtype = !dtype.is_none() ? to_dtype(dtype, "arange")
                            : any_float({first, second, step}) ? default_dtype() : DType::Int64;
    return finish(arange(start, end, to_scalar(step, "arange"), out_dtype, to_device(device, "arange")), requires_grad);
  }, py::arg("start"), py::arg("end") = py::none(), py::arg("step") = 1, py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("arange"));
  module.def("linspace", [](double start, double end, Integer steps, DTypeArgument dtype, DeviceArgument device, bool requires_grad) {
    return finish(linspace(start, end, to_int(steps, "linspace", "steps"), dtype_or_default(dtype, "linspace"),
                           to_device(device, "linspace")), requires_grad);
  }, py::arg("start"), py::arg("end"), py::arg("steps"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("linspace"));
  module.def("eye", [](Integer n, Integer m, DTypeArgument dtype, DeviceArgument device, bool requires_grad) {
    const int64_t rows = to_int(n, "eye", "n");
    return finish(eye(rows, m.is_none() ? rows : to_int(m, "eye", "m"), dtype_or_default(dtype, "eye"),
                      to_device(device, "eye")), requires_grad);
  }, py::arg("n"), py::arg("m") = py::none(), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("eye"));

  bind_generator(module);
  module.def("randint", [](py::handle low, py::handle high, py::handle size, GeneratorArgument generator, DTypeArgument dtype,
                           DeviceArgument device) {
    // randint(high, size), randint(high, size=size) or randint(low, high, size), as in PyTorch:
    // with two numbers given, the second is `high` only if a size follows it.
    const bool low_omitted = size.is_none() || high.is_none();
    TG_CHECK_TYPE(!(size.is_none() && high.is_none()), "randint", "expected randint(high, size) or randint(low, high, size)");
    const int64_t lower = low_omitted ? 0 : to_int(low, "randint", "low");
    const int64_t upper = low_omitted ? to_int(low, "randint", "high") : to_int(high, "randint", "high");
    const DimVector shape = to_shape(size.is_none() ? high : size, "randint");
    const DType out_dtype = dtype.is_none() ? DType::Int64 : to_dtype(dtype, "randint");
    const Device out_device = to_device(device, "randint");
    const GeneratorScope scope(generator_of(generator, "randint"));
    return randint(lower, upper, shape, out_dtype, out_device);
  }, py::arg("low"), py::arg("high") = py::none(), py::arg("size") = py::none(), py::kw_only(),
     py::arg("generator") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), docstring("randint"));
  module.def("randperm", [](Integer n, GeneratorArgument generator, DTypeArgument dtype, DeviceArgument device) {
    const DType out_dtype = dtype.is_none() ? DType::Int64 : to_dtype(dtype, "randperm");
    const Device out_device = to_device(device, "randperm");
    const GeneratorScope scope(generator_of(generator, "randperm"));
    return randperm(to_int(n, "randperm", "n"), out_dtype, out_device);
  }, py::arg("n"), py::kw_only(), py::arg("generator") = py::none(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), docstring("randperm"));

  // Draws whose distribution a tensor gives (ops/sampling.h).
  const auto multinomial_of = [](const Tensor& self, Integer num_samples, bool replacement, GeneratorArgument generator) {
    const GeneratorScope scope(generator_of(generator, "multinomial"));
    return multinomial(self, to_int(num_samples, "multinomial", "num_samples"), replacement);
  };
  module.def("multinomial", multinomial_of, py::arg("input"), py::arg("num_samples"), py::arg("replacement") = false,
             py::kw_only(), py::arg("generator") = py::none(), docstring("multinomial"));
  tensor.def("multinomial", multinomial_of, py::arg("num_samples"), py::arg("replacement") = false, py::kw_only(),
             py::arg("generator") = py::none(), docstring("multinomial"));
  // bernoulli(input): probabilities in input; bernoulli(input, p): input's shape, probability p.
  const auto bernoulli_of = [](const Tensor& self, py::handle p, GeneratorArgument generator) {
    const GeneratorScope scope(generator_of(generator, "bernoulli"));
    if (p.is_none()) return bernoulli(self);
    return bernoulli(self, p.cast<double>());
  };
  module.def("bernoulli", bernoulli_of, py::arg("input"), py::arg("p") = py::none(), py::kw_only(),
             py::arg("generator") = py::none(), docstring("bernoulli"));
  tensor.def("bernoulli", bernoulli_of, py::arg("p") = py::none(), py::kw_only(), py::arg("generator") = py::none(),
             docstring("bernoulli"));
  tensor.def("bernoulli_", [](Tensor& self, py::handle p, GeneratorArgument generator) -> Tensor& {
    const GeneratorScope scope(generator_of(generator, "bernoulli_"));
    if (is_tensor(p)) return bernoulli_(self, to_tensor(p, "bernoulli_", "p"));
    return bernoulli_(self, p.cast<double>());
  }, py::arg("p") = 0.5, py::kw_only(), py::arg("generator") = py::none(), docstring("bernoulli_"));

  tensor.def("uniform_", [](Tensor& self, double from, double to, GeneratorArgument generator) -> Tensor& {
    const GeneratorScope scope(generator_of(generator, "uniform_"));
    return uniform_(self, from, to);
  }, py::arg("a") = 0.0, py::arg("b") = 1.0, py::kw_only(), py::arg("generator") = py::none(), docstring("uniform_"));
  tensor.def("normal_", [](Tensor& self, double mean, double std, GeneratorArgument generator) -> Tensor& {
    const GeneratorScope scope(generator_of(generator, "normal_"));
    return normal_(self, mean, std);
  }, py::arg("mean") = 0.0, py::arg("std") = 1.0, py::kw_only(), py::arg("generator") = py::none(), docstring("normal_"));
  tensor.def("fill_", [](Tensor& self, py::handle value) -> Tensor& {
    if (is_tensor(value)) {
      const Tensor source = as_tensor(value);
      TG_CHECK(source.dim() == 0, "fill_", "only supports 0-dimension value tensors, got shape ", source.sizes());
      return copy_(self, source);
    }
    return fill_(self, to_scalar(value, "fill_"));
  }, py::arg("value"), docstring("fill_"));
  tensor.def("zero_", [](Tensor& self) -> Tensor& { return zero_(self); }, docstring("zero_"));
  tensor.def("copy_", [](Tensor& self, py::handle source) -> Tensor& {
    return call_releasing_gil(copy_, self, to_tensor(source, "copy_", "src"));
  }, py::arg("src"), docstring("copy_"));

  // to(dtype, non_blocking, copy), to(device, dtype, non_blocking, copy), to(other, non_blocking,
  // copy), each also by keyword, as PyTorch parses them. non_blocking changes nothing on the CPU.
  tensor.def("to", [](const Tensor& self, py::args args, DTypeArgument dtype, DeviceArgument device, py::handle non_blocking,
                      py::handle copy) {
    DType target = self.dtype();
    Device target_device = self.device();
    size_t next = 0;
    if (next < args.size() && is_tensor(args[next])) {
      target = as_tensor(args[next]).dtype();
      target_device = as_tensor(args[next]).device();
      ++next;
    } else if (next < args.size() && (args[next].is_none() || is_device_like(args[next]))) {
      if (!args[next].is_none()) target_device = to_device(args[next], "to");
      ++next;
      if (next < args.size() && !PyBool_Check(args[next].ptr())) {
        if (!args[next].is_none()) target = to_dtype(args[next], "to");
        ++next;
      }
    } else if (next < args.size()) {
      target = to_dtype(args[next++], "to");
    }
    TG_CHECK_TYPE(args.size() - next <= 2, "to", "expected at most a dtype or device, then non_blocking and copy; got ",
                  args.size(), " positional arguments");
    const bool copy_positional = args.size() - next == 2;
    if (next < args.size()) to_bool(args[next], "to", "non_blocking");
    to_bool(non_blocking, "to", "non_blocking");
    bool copy_data = copy_positional && to_bool(args[next + 1], "to", "copy");
    if (!copy.is_none()) copy_data = to_bool(copy, "to", "copy");
    if (!dtype.is_none()) target = to_dtype(dtype, "to");
    if (!device.is_none()) target_device = to_device(device, "to");
    check_device_available(target_device, "to");
    return converted(self, target, copy_data);
  }, py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(), py::arg("non_blocking") = false,
     py::arg("copy") = py::none(), docstring("to"));
  tensor.def("type", [](const Tensor& self, DTypeArgument dtype) -> py::object {
    if (dtype.is_none()) return py::str(std::string("tapegrad.") + legacy_type_name(self.dtype()));
    return py::cast(converted(self, to_legacy_type(dtype, "type"), false));
  }, py::arg("dtype") = py::none(), docstring("type"));
  const std::pair<const char*, DType> conversions[] = {
      {"float", DType::Float32}, {"double", DType::Float64}, {"long", DType::Int64}, {"int", DType::Int32}, {"bool", DType::Bool}};
  for (auto [name, dtype] : conversions)
    tensor.def(name, [dtype = dtype](const Tensor& self) {
      return converted(self, dtype, false);
    }, docstring(name));
  tensor.def("cpu", [](const Tensor& self) { return self; }, docstring("cpu"));
  tensor.def("cuda", [](const Tensor& self, DeviceArgument device, py::handle) {
    check_device_available(device.is_none() ? Device{DeviceType::CUDA} : to_device(device, "cuda"), "cuda");
    return self;
  }, py::arg("device") = py::none(), py::arg("non_blocking") = false, docstring("cuda"));

  // new_zeros and the rest: a new tensor with self's dtype and device unless given, as PyTorch's.
  auto bind_new = [&](const char* name, auto make) {
    tensor.def(name, [=](const Tensor& self, py::args args, py::object size, DTypeArgument dtype, DeviceArgument device,
                         bool requires_grad) {
      const DType out_dtype = dtype.is_none() ? self.dtype() : to_dtype(dtype, name);
      const Device out_device = device.is_none() ? self.device() : to_device(device, name);
      return finish(make(shape_from(args, size, name), out_dtype, out_device), requires_grad);
    }, py::kw_only(), py::arg("size") = py::none(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
       py::arg("requires_grad") = false, docstring(name));
  };
  bind_new("new_zeros", [](const DimVector& s, DType d, Device v) { return zeros(s, d, v); });
  bind_new("new_ones", [](const DimVector& s, DType d, Device v) { return ones(s, d, v); });
  bind_new("new_empty", [](const DimVector& s, DType d, Device v) { return empty(s, d, v); });
  tensor.def("new_full", [](const Tensor& self, py::handle size, py::handle value, DTypeArgument dtype, DeviceArgument device,
                            bool requires_grad) {
    const DType out_dtype = dtype.is_none() ? self.dtype() : to_dtype(dtype, "new_full");
    const Device out_device = device.is_none() ? self.device() : to_device(device, "new_full");
    return finish(full(to_shape(size, "new_full"), to_scalar(value, "new_full"), out_dtype, out_device), requires_grad);
  }, py::arg("size"), py::arg("fill_value"), py::kw_only(), py::arg("dtype") = py::none(),
     py::arg("device") = py::none(), py::arg("requires_grad") = false, docstring("new_full"));
  tensor.def("new_tensor", [](const Tensor& self, py::handle data, DTypeArgument dtype, DeviceArgument device,
                              bool requires_grad) {
    const py::object out_dtype = dtype.is_none() ? dtype_object(self.dtype()) : dtype;
    py::object made = py::module_::import("tapegrad").attr("tensor")(data, py::arg("dtype") = out_dtype);
    // A tensor's data is copied and detached, as in PyTorch.
    Tensor out = as_tensor(made);
    if (is_tensor(data) && out.impl() == as_tensor(data).impl()) out = to_dtype(as_tensor(data), out.dtype(), true);
    if (device.is_none() == false) check_device_available(to_device(device, "new_tensor"), "new_tensor");
    return finish(out.detach(), requires_grad);
  }, py::arg("data"), py::kw_only(), py::arg("dtype") = py::none(), py::arg("device") = py::none(),
     py::arg("requires_grad") = false, docstring("new_tensor"));
  tensor.def("type_as", checked("type_as", {"self", "other"}, [](const Tensor& self, const Tensor& other) {
    return converted(self, other.dtype(), false);
  }), py::arg("other"), docstring("type_as"));
}

}  // namespace tg::python
