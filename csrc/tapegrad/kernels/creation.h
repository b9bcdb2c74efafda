// The parameter types of the creation and random-number kernels (kernels/backend.h declares them).
// They are public API names too (tg::RngState): ops/creation.h includes this header.
#pragma once

#include <cstdint>

namespace tg {

// The seed the generator starts from (PyTorch's default seed).
constexpr uint64_t default_rng_seed = 67280421310721ULL;

// The generator's whole state, so that the bindings can keep independent streams
// (tapegrad.Generator objects swap theirs in around a draw) and save and restore the global one.
struct RngState {
  uint64_t seed;
  uint64_t words[4];  // xoshiro256**; never all zero
  bool has_spare_normal;
  double spare_normal;
};

}  // namespace tg
