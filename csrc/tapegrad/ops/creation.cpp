#include "tapegrad/ops/creation.h"

#include <cmath>

#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"

namespace tg {

Tensor empty(const DimVector& sizes, DType dtype, Device device) { return Tensor::empty(sizes, dtype, device); }

namespace {

Tensor filled(Tensor out, Scalar value) {
  kernels::backend("fill_", out)->fill(out, value);
  return out;
}

// `op` names the public function in errors (a negative size in zeros() says "[zeros]").
Tensor filled(const DimVector& sizes, Scalar value, DType dtype, Device device, const char* op) {
  return filled(Tensor::empty(sizes, dtype, device, op), value);
}

// Laid out as `like`, as PyTorch's preserve_format (and the Python *_like functions) lay it out.
Tensor empty_like_named(const Tensor& like, const char* op) {
  return Tensor::empty_like_layout(like, like.dtype(), like.device(), op);
}

}  // namespace

Tensor full(const DimVector& sizes, Scalar value, DType dtype, Device device) {
  value.check_fits(dtype, "full");
  return filled(sizes, value, dtype, device, "full");
}
Tensor zeros(const DimVector& sizes, DType dtype, Device device) { return filled(sizes, Scalar(0), dtype, device, "zeros"); }
Tensor ones(const DimVector& sizes, DType dtype, Device device) { return filled(sizes, Scalar(1), dtype, device, "ones"); }
Tensor empty_like(const Tensor& like) { return empty_like_named(like, "empty_like"); }
Tensor zeros_like(const Tensor& like) { return filled(empty_like_named(like, "zeros_like"), Scalar(0)); }
Tensor ones_like(const Tensor& like) { return filled(empty_like_named(like, "ones_like"), Scalar(1)); }
Tensor full_like(const Tensor& like, Scalar value) {
  value.check_fits(like.dtype(), "full_like");
  return filled(empty_like_named(like, "full_like"), value);
}
Tensor scalar_tensor(Scalar value, DType dtype, Device device) { return filled({}, value, dtype, device, "scalar_tensor"); }

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype, Device device) {
  TG_CHECK(std::isfinite(start.to_double()) && std::isfinite(end.to_double()) && std::isfinite(step.to_double()),
           "arange", "unsupported range: ", start.to_double(), " -> ", end.to_double(), " step ", step.to_double());
  // PyTorch's rules: an integer result steps in int64 from the truncated bounds (so
  // arange(0, 5, 1.5, dtype=int64) steps by 1), and only int64 also counts its size in integers;
  // every other dtype counts ceil((end - start) / step) on the bounds as given.
  const bool integer_result = !is_floating(dtype);
  const double first = integer_result ? static_cast<double>(start.checked_to<int64_t>("arange")) : start.to_double();
  const double last = integer_result ? static_cast<double>(end.checked_to<int64_t>("arange")) : end.to_double();
  const double increment = integer_result ? static_cast<double>(step.checked_to<int64_t>("arange")) : step.to_double();
  TG_CHECK(increment != 0, "arange", "step must be nonzero");
  TG_CHECK((increment > 0 && last >= first) || (increment < 0 && last <= first),
           "arange", "upper bound and lower bound inconsistent with step sign (start=", start.to_double(),
           ", end=", end.to_double(), ", step=", step.to_double(), ")");
  const double exact_count = dtype == DType::Int64
      ? std::ceil((last - first + increment - (increment > 0 ? 1 : -1)) / increment)
      : std::ceil((end.to_double() - start.to_double()) / step.to_double());
  // Checked before the cast to int64, which would be undefined behaviour past its range.
  TG_CHECK(exact_count < 0x1p62, "arange", "invalid size ", exact_count, " for start=", start.to_double(), ", end=",
           end.to_double(), ", step=", step.to_double(), ", possible overflow?");
  const int64_t count = static_cast<int64_t>(exact_count);
  Tensor out = Tensor::empty({count}, dtype, device, "arange");
  kernels::backend("arange", out)->arange(out, start, step);
  return out;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  TG_CHECK(steps >= 0, "linspace", "number of steps must be non-negative, got ", steps);
  Tensor out = Tensor::empty({steps}, dtype, device, "linspace");
  kernels::backend("linspace", out)->linspace(out, start, end);
  return out;
}

Tensor eye(int64_t rows, int64_t cols, DType dtype, Device device) {
  TG_CHECK(rows >= 0 && cols >= 0, "eye", "n and m must be non-negative, got ", rows, " and ", cols);
  Tensor out = Tensor::empty({rows, cols}, dtype, device, "eye");
  kernels::backend("eye", out)->eye(out);
  return out;
}

// ---- random numbers ------------------------------------------------------------------------

namespace {

// The random fills write raw data: no autograd, but the version counter moves.
Tensor& filled_randomly(Tensor& self) {
  self.impl()->bump_version();
  return self;
}

// The backend whose generator initial_seed and the RNG state are about: the CPU's, as in torch.
kernels::Backend& generator_backend(const char* op) { return kernels::backend_for(Device{DeviceType::CPU}, op); }

}  // namespace

// Every backend's generator, as torch.manual_seed seeds them all.
void manual_seed(uint64_t seed) {
  kernels::for_each_backend([seed](kernels::Backend& backend) { backend.manual_seed(seed); });
}
uint64_t initial_seed() { return generator_backend("initial_seed").initial_seed(); }

RngState get_rng_state() { return generator_backend("get_rng_state").get_rng_state(); }

void set_rng_state(const RngState& state) {
  TG_CHECK(state.words[0] | state.words[1] | state.words[2] | state.words[3],
           "set_rng_state", "invalid state: the generator words are all zero");
  generator_backend("set_rng_state").set_rng_state(state);
}

Tensor& uniform_(Tensor& self, double low, double high) {
  TG_CHECK_TYPE(is_floating(self.dtype()), "uniform_", "expects a floating-point tensor, got ", dtype_name(self.dtype()));
  check_not_inference(self, "uniform_");
  TG_CHECK(low <= high, "uniform_", "expects low <= high, got low=", low, " high=", high);
  kernels::backend("uniform_", self)->uniform(self, low, high);
  return filled_randomly(self);
}

Tensor& normal_(Tensor& self, double mean, double std) {
  TG_CHECK_TYPE(is_floating(self.dtype()), "normal_", "expects a floating-point tensor, got ", dtype_name(self.dtype()));
  check_not_inference(self, "normal_");
  TG_CHECK(std >= 0, "normal_", "expects std >= 0.0, got ", std);
  kernels::backend("normal_", self)->normal(self, mean, std);
  return filled_randomly(self);
}

Tensor rand(const DimVector& sizes, DType dtype, Device device) {
  Tensor out = Tensor::empty(sizes, dtype, device, "rand");
  return uniform_(out, 0.0, 1.0);
}

Tensor randn(const DimVector& sizes, DType dtype, Device device) {
  Tensor out = Tensor::empty(sizes, dtype, device, "randn");
  return normal_(out, 0.0, 1.0);
}

Tensor randint(int64_t low, int64_t high, const DimVector& sizes, DType dtype, Device device) {
  TG_CHECK(low < high, "randint", "expects low < high, got low=", low, " high=", high);
  Tensor out = Tensor::empty(sizes, dtype, device, "randint");
  kernels::backend("randint", out)->randint(out, low, high);
  return filled_randomly(out);
}

Tensor randperm(int64_t n, DType dtype, Device device) {
  TG_CHECK(n >= 0, "randperm", "n must be non-negative, got ", n);
  Tensor out = Tensor::empty({n}, dtype, device, "randperm");  // first: its MemoryError names an impossible n
  kernels::backend("randperm", out)->randperm(out);
  return filled_randomly(out);
}

}  // namespace tg
