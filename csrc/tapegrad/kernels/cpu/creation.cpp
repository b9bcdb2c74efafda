// CPU kernels for tensors made from nothing: ranges, identity, and random draws from the CPU's
// generator.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

void CpuBackend::arange(const Tensor& out, Scalar start, Scalar step) {
  const int64_t count = out.numel();
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    if (!is_floating(out.dtype())) {
      const int64_t origin = start.to<int64_t>(), stride = step.to<int64_t>();
      // A running sum rather than origin + i * stride: baseline x86-64 has no vector multiply of
      // 64-bit integers, so the product kept the loop scalar; the sum vectorises.
      parallel_ranges(count, [&](int64_t begin, int64_t end) {
        int64_t value = origin + begin * stride;
        for (int64_t i = begin; i < end; ++i, value += stride) data[i] = static_cast<T>(value);
      });
    } else {
      const double first = start.to_double(), increment = step.to_double();
      parallel_ranges(count, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) data[i] = static_cast<T>(first + static_cast<double>(i) * increment);
      });
    }
  });
}

void CpuBackend::linspace(const Tensor& out, double start, double end) {
  const int64_t steps = out.numel();
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    // Fill symmetrically from both ends, as PyTorch does, so the last element is exactly `end`
    // (and a single step is `start`).
    const int64_t half = steps == 1 ? 1 : steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      data[i] = static_cast<T>(i < half ? start + step * static_cast<double>(i)
                                        : end - step * static_cast<double>(steps - 1 - i));
  });
}

void CpuBackend::eye(const Tensor& out) {
  fill(out, Scalar(0));
  const int64_t rows = out.size(0), cols = out.size(1);
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = out.data_ptr<T>();
    for (int64_t i = 0; i < std::min(rows, cols); ++i) data[i * cols + i] = T(1);
  });
}

// ---- random numbers ------------------------------------------------------------------------
// xoshiro256** seeded through splitmix64 (seeded_rng_state): fast, good statistical quality, and
// one default stream per process that manual_seed resets, so a seeded program draws the same
// numbers every run. Every draw holds its generator's mutex (kernels/creation.h).
namespace {

// The numbers of one generator's stream, drawn from its state (whose mutex the caller holds).
struct Stream {
  RngState& state;

  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    uint64_t* words = state.words;
    const uint64_t result = rotl(words[1] * 5, 7) * 9;
    const uint64_t t = words[1] << 17;
    words[2] ^= words[0];
    words[3] ^= words[1];
    words[1] ^= words[2];
    words[0] ^= words[3];
    words[2] ^= t;
    words[3] = rotl(words[3], 45);
    return result;
  }
  double uniform_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }     // [0, 1)
  double normal() {
    if (state.has_spare_normal) {
      state.has_spare_normal = false;
      return state.spare_normal;
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
    state.spare_normal = v * factor;
    state.has_spare_normal = true;
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

Generator& default_generator() {
  static Generator instance;
  return instance;
}

// Runs draw(stream) on the generator this thread draws from (a GeneratorScope's, else the CPU's
// own), holding its mutex throughout so that one call's numbers are consecutive in its stream.
template <typename Draw>
void with_stream(Draw draw) {
  Generator& generator = kernels::scoped_generator != nullptr ? *kernels::scoped_generator : default_generator();
  const std::lock_guard lock(generator.mutex);
  Stream stream{generator.state};
  draw(stream);
}

// Fills a contiguous buffer with draw(tag) and copies it into self (which may be any view, any
// dtype).
template <typename Draw>
void fill_random(const Tensor& self, const char* op, Draw draw) {
  const Tensor buffer = self.is_contiguous() ? self : Tensor::empty(self.sizes(), self.dtype(), self.device(), op);
  dispatch_all(self.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* data = buffer.data_ptr<T>();
    for (int64_t i = 0; i < buffer.numel(); ++i) data[i] = static_cast<T>(draw(tag));
  });
  if (!buffer.is_same(self)) cpu_backend.copy(self, buffer);
}

}  // namespace

// These act on the CPU's own generator, as torch.manual_seed and torch.get_rng_state do.
void CpuBackend::manual_seed(uint64_t seed) {
  Generator& generator = default_generator();
  const std::lock_guard lock(generator.mutex);
  generator.state = seeded_rng_state(seed);
}

uint64_t CpuBackend::initial_seed() { return get_rng_state().seed; }

RngState CpuBackend::get_rng_state() {
  Generator& generator = default_generator();
  const std::lock_guard lock(generator.mutex);
  return generator.state;
}

void CpuBackend::set_rng_state(const RngState& state) {
  Generator& generator = default_generator();
  const std::lock_guard lock(generator.mutex);
  generator.state = state;
}

void CpuBackend::uniform(const Tensor& self, double low, double high) {
  with_stream([&](Stream& rng) {
    fill_random(self, "uniform_", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, float>) return low + (high - low) * static_cast<double>(rng.uniform_float());
      else return low + (high - low) * rng.uniform_double();
    });
  });
}

void CpuBackend::normal(const Tensor& self, double mean, double std) {
  with_stream([&](Stream& rng) { fill_random(self, "normal_", [&](auto) { return mean + std * rng.normal(); }); });
}

void CpuBackend::randint(const Tensor& self, int64_t low, int64_t high) {
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  with_stream([&](Stream& rng) {
    fill_random(self, "randint", [&](auto) {
      return static_cast<int64_t>(static_cast<uint64_t>(low) + rng.below(range));
    });
  });
}

void CpuBackend::randperm(const Tensor& out) {
  const int64_t n = out.numel();
  std::vector<int64_t> permutation(static_cast<size_t>(n));
  std::iota(permutation.begin(), permutation.end(), 0);
  with_stream([&](Stream& rng) {
    for (int64_t i = n - 1; i > 0; --i) std::swap(permutation[i], permutation[rng.below(static_cast<uint64_t>(i) + 1)]);
  });
  size_t next = 0;
  fill_random(out, "randperm", [&](auto) { return permutation[next++]; });
}

void CpuBackend::multinomial(const Tensor& out, const Tensor& probabilities, bool replacement) {
  const int64_t rows = probabilities.size(0), categories = probabilities.size(1), samples = out.size(1);
  const double* weights = probabilities.data_ptr<double>();
  int64_t* drawn = out.data_ptr<int64_t>();
  std::vector<double> scratch(static_cast<size_t>(categories));
  std::vector<int64_t> order(static_cast<size_t>(categories));
  for (int64_t row = 0; row < rows; ++row) {
    double total = 0.0;
    for (int64_t k = 0; k < categories; ++k) {
      const double p = weights[row * categories + k];
      TG_CHECK(std::isfinite(p) && p >= 0.0, "multinomial",
               "probability tensor contains either `inf`, `nan` or element < 0 (row ", row, ", category ", k, ")");
      total += p;
    }
    TG_CHECK(total > 0.0, "multinomial", "invalid multinomial distribution (sum of probabilities <= 0) in row ", row);
  }
  with_stream([&](Stream& rng) {
    for (int64_t row = 0; row < rows; ++row) {
      const double* p = weights + row * categories;
      int64_t* result = drawn + row * samples;
      if (replacement) {
        // Inverse transform sampling: a binary search of the running sums for each uniform draw.
        std::partial_sum(p, p + categories, scratch.begin());
        const double total = scratch.back();
        for (int64_t s = 0; s < samples; ++s) {
          const double target = rng.uniform_double() * total;
          auto found = std::upper_bound(scratch.begin(), scratch.end(), target);
          // A draw rounding up to the total lands past the end: take the last category that can occur.
          int64_t k = std::min<int64_t>(found - scratch.begin(), categories - 1);
          while (k > 0 && p[k] == 0.0) --k;
          result[s] = k;
        }
      } else {
        // Exponential keys E / p (E ~ Exp(1)): the k smallest are a draw of k categories without
        // replacement, each next one with probability proportional to its weight among the rest.
        for (int64_t k = 0; k < categories; ++k) {
          const double e = -std::log1p(-rng.uniform_double());
          scratch[static_cast<size_t>(k)] = p[k] > 0.0 ? e / p[k] : std::numeric_limits<double>::infinity();
        }
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + samples, order.end(), [&](int64_t a, int64_t b) {
          return scratch[static_cast<size_t>(a)] < scratch[static_cast<size_t>(b)];
        });
        std::copy(order.begin(), order.begin() + samples, result);
      }
    }
  });
}

void CpuBackend::bernoulli(const Tensor& self, const Tensor& probabilities) {
  const double* p = probabilities.data_ptr<double>();
  for (int64_t i = 0; i < probabilities.numel(); ++i)
    TG_CHECK(p[i] >= 0.0 && p[i] <= 1.0, "bernoulli", "Expected p_in >= 0 && p_in <= 1 to be true, but got ", p[i],
             " at flat index ", i);
  int64_t next = 0;
  with_stream([&](Stream& rng) {
    fill_random(self, "bernoulli", [&](auto) { return rng.uniform_double() < p[next++] ? 1 : 0; });
  });
}

}  // namespace tg::cpu
