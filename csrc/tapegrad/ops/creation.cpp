#include "tapegrad/ops/creation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/ops/copy.h"

namespace tg {

Tensor empty(const DimVector& sizes, DType dtype, Device device) { return Tensor::empty(sizes, dtype, device); }

namespace {
// `op` names the public function in errors (a negative size in zeros() says "[zeros]").
Tensor filled(const DimVector& sizes, Scalar value, DType dtype, Device device, const char* op) {
  Tensor out = Tensor::empty(sizes, dtype, device, op);
  kernels::fill(out, value);
  return out;
}
}  // namespace

Tensor full(const DimVector& sizes, Scalar value, DType dtype, Device device) {
  value.check_fits(dtype, "full");
  return filled(sizes, value, dtype, device, "full");
}
Tensor zeros(const DimVector& sizes, DType dtype, Device device) { return filled(sizes, Scalar(0), dtype, device, "zeros"); }
Tensor ones(const DimVector& sizes, DType dtype, Device device) { return filled(sizes, Scalar(1), dtype, device, "ones"); }
Tensor empty_like(const Tensor& like) { return Tensor::empty(like.sizes(), like.dtype(), like.device()); }
Tensor zeros_like(const Tensor& like) { return zeros(like.sizes(), like.dtype(), like.device()); }
Tensor ones_like(const Tensor& like) { return ones(like.sizes(), like.dtype(), like.device()); }
Tensor full_like(const Tensor& like, Scalar value) { return full(like.sizes(), value, like.dtype(), like.device()); }
Tensor scalar_tensor(Scalar value, DType dtype, Device device) { return filled({}, value, dtype, device, "scalar_tensor"); }

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype, Device device) {
  TG_CHECK(std::isfinite(start.to_double()) && std::isfinite(end.to_double()) && std::isfinite(step.to_double()),
           "[arange] unsupported range: ", start.to_double(), " -> ", end.to_double(), " step ", step.to_double());
  // PyTorch's rules: an integer result steps in int64 from the truncated bounds (so
  // arange(0, 5, 1.5, dtype=int64) steps by 1), and only int64 also counts its size in integers;
  // every other dtype counts ceil((end - start) / step) on the bounds as given.
  const bool integer_result = !is_floating(dtype);
  const double first = integer_result ? static_cast<double>(start.checked_to<int64_t>("arange")) : start.to_double();
  const double last = integer_result ? static_cast<double>(end.checked_to<int64_t>("arange")) : end.to_double();
  const double increment = integer_result ? static_cast<double>(step.checked_to<int64_t>("arange")) : step.to_double();
  TG_CHECK(increment != 0, "[arange] step must be nonzero");
  TG_CHECK((increment > 0 && last >= first) || (increment < 0 && last <= first),
           "[arange] upper bound and lower bound inconsistent with step sign (start=", start.to_double(),
           ", end=", end.to_double(), ", step=", step.to_double(), ")");
  const double exact_count = dtype == DType::Int64
      ? std::ceil((last - first + increment - (increment > 0 ? 1 : -1)) / increment)
      : std::ceil((end.to_double() - start.to_double()) / step.to_double());
  // Checked before the cast to int64, which would be undefined behaviour past its range.
  TG_CHECK(exact_count < 0x1p62, "[arange] invalid size ", exact_count, " for start=", start.to_double(), ", end=",
           end.to_double(), ", step=", step.to_double(), ", possible overflow?");
  const int64_t count = static_cast<int64_t>(exact_count);
  Tensor out = Tensor::empty({count}, dtype, device, "arange");
  kernels::require_cpu("arange", out);
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    if (integer_result) {
      const int64_t origin = start.to<int64_t>(), stride = step.to<int64_t>();
      for (int64_t i = 0; i < count; ++i) data[i] = static_cast<T>(origin + i * stride);
    } else {
      for (int64_t i = 0; i < count; ++i) data[i] = static_cast<T>(first + static_cast<double>(i) * increment);
    }
  });
  return out;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device) {
  TG_CHECK(steps >= 0, "[linspace] number of steps must be non-negative, got ", steps);
  Tensor out = Tensor::empty({steps}, dtype, device, "linspace");
  kernels::require_cpu("linspace", out);
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    // Fill symmetrically from both ends, as PyTorch does, so the last element is exactly `end`
    // (and a single step is `start`).
    const int64_t half = steps == 1 ? 1 : steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      data[i] = static_cast<T>(i < half ? start + step * static_cast<double>(i)
                                        : end - step * static_cast<double>(steps - 1 - i));
  });
  return out;
}

Tensor eye(int64_t rows, int64_t cols, DType dtype, Device device) {
  TG_CHECK(rows >= 0 && cols >= 0, "[eye] n and m must be non-negative, got ", rows, " and ", cols);
  Tensor out = zeros({rows, cols}, dtype, device);
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    for (int64_t i = 0; i < std::min(rows, cols); ++i) data[i * cols + i] = T(1);
  });
  return out;
}

// ---- random numbers ------------------------------------------------------------------------
// xoshiro256** seeded through splitmix64: fast, good statistical quality, and one stream per
// process that manual_seed resets, so a seeded program draws the same numbers every run.
namespace {

struct Generator {
  uint64_t seed = default_rng_seed;
  uint64_t state[4];
  bool has_spare_normal = false;
  double spare_normal = 0;

  Generator() { reseed(seed); }
  void reseed(uint64_t new_seed) {
    seed = new_seed;
    uint64_t x = new_seed;
    for (auto& word : state) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
    has_spare_normal = false;
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(state[1] * 5, 7) * 9;
    const uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
  }
  double uniform_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }     // [0, 1)
  double normal() {
    if (has_spare_normal) {
      has_spare_normal = false;
      return spare_normal;
    }
    // Marsaglia's polar method: one log and one sqrt per pair and no sin/cos, which makes it
    // faster than Box-Muller; s is kept in (0, 1) so the log is finite and negative.
    double u, v, s;
    do {
      u = 2.0 * uniform_double() - 1.0;
      v = 2.0 * uniform_double() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_normal = v * factor;
    has_spare_normal = true;
    return u * factor;
  }
  // Uniform in [0, range) without modulo bias (Lemire's method).
  uint64_t below(uint64_t range) {
    unsigned __int128 product = static_cast<unsigned __int128>(next()) * range;
    uint64_t low = static_cast<uint64_t>(product);
    if (low < range) {
      const uint64_t threshold = -range % range;
      while (low < threshold) {
        product = static_cast<unsigned __int128>(next()) * range;
        low = static_cast<uint64_t>(product);
      }
    }
    return static_cast<uint64_t>(product >> 64);
  }
};

Generator& generator() {
  static Generator instance;
  return instance;
}

// Fills a contiguous buffer and copies it into self (which may be any view, any dtype).
template <typename Draw>
Tensor& fill_random(Tensor& self, const char* op, Draw draw) {
  kernels::require_cpu(op, self);
  Tensor buffer = self.is_contiguous() ? self : Tensor::empty(self.sizes(), self.dtype(), self.device(), op);
  dispatch_all(self.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = buffer.data_ptr<T>();
    for (int64_t i = 0; i < buffer.numel(); ++i) data[i] = static_cast<T>(draw(tag));
  });
  if (!buffer.is_same(self)) kernels::copy(self, buffer);
  self.impl()->bump_version();
  return self;
}

}  // namespace

void manual_seed(uint64_t seed) { generator().reseed(seed); }
uint64_t initial_seed() { return generator().seed; }

RngState get_rng_state() {
  const Generator& rng = generator();
  return {rng.seed, {rng.state[0], rng.state[1], rng.state[2], rng.state[3]}, rng.has_spare_normal, rng.spare_normal};
}

void set_rng_state(const RngState& state) {
  TG_CHECK(state.words[0] | state.words[1] | state.words[2] | state.words[3],
           "[set_rng_state] invalid state: the generator words are all zero");
  Generator& rng = generator();
  rng.seed = state.seed;
  std::copy(std::begin(state.words), std::end(state.words), rng.state);
  rng.has_spare_normal = state.has_spare_normal;
  rng.spare_normal = state.spare_normal;
}

Tensor& uniform_(Tensor& self, double low, double high) {
  TG_CHECK_TYPE(is_floating(self.dtype()), "[uniform_] expects a floating-point tensor, got ", dtype_name(self.dtype()));
  TG_CHECK(low <= high, "[uniform_] expects low <= high, got low=", low, " high=", high);
  Generator& rng = generator();
  return fill_random(self, "uniform_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float>) return low + (high - low) * static_cast<double>(rng.uniform_float());
    else return low + (high - low) * rng.uniform_double();
  });
}

Tensor& normal_(Tensor& self, double mean, double std) {
  TG_CHECK_TYPE(is_floating(self.dtype()), "[normal_] expects a floating-point tensor, got ", dtype_name(self.dtype()));
  TG_CHECK(std >= 0, "[normal_] expects std >= 0.0, got ", std);
  Generator& rng = generator();
  return fill_random(self, "normal_", [&](auto) { return mean + std * rng.normal(); });
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
  TG_CHECK(low < high, "[randint] expects low < high, got low=", low, " high=", high);
  Tensor out = Tensor::empty(sizes, dtype, device, "randint");
  Generator& rng = generator();
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  return fill_random(out, "randint", [&](auto) { return low + static_cast<int64_t>(rng.below(range)); });
}

Tensor randperm(int64_t n, DType dtype, Device device) {
  TG_CHECK(n >= 0, "[randperm] n must be non-negative, got ", n);
  Tensor out = Tensor::empty({n}, dtype, device, "randperm");  // first: its MemoryError names an impossible n
  std::vector<int64_t> permutation(static_cast<size_t>(n));
  std::iota(permutation.begin(), permutation.end(), 0);
  Generator& rng = generator();
  for (int64_t i = n - 1; i > 0; --i) std::swap(permutation[i], permutation[rng.below(static_cast<uint64_t>(i) + 1)]);
  size_t next = 0;
  return fill_random(out, "randperm", [&](auto) { return permutation[next++]; });
}

}  // namespace tg
