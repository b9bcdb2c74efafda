// The parameter types of the creation and random-number kernels (kernels/backend.h declares them).
// They are public API names too (tg::RngState): ops/creation.h includes this header.
#pragma once

#include <cstdint>
#include <mutex>

namespace tg {

// The seed the generator starts from (PyTorch's default seed).
constexpr uint64_t default_rng_seed = 67280421310721ULL;

// A generator's whole state, so that the bindings can save and restore it.
struct RngState {
  uint64_t seed;
  uint64_t words[4];  // xoshiro256**; never all zero
  bool has_spare_normal;
  double spare_normal;
};

// The state a generator seeded with `seed` starts from: the xoshiro words through splitmix64.
constexpr RngState seeded_rng_state(uint64_t seed) {
  RngState state{seed, {}, false, 0.0};
  uint64_t x = seed;
  for (auto& word : state.words) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    word = z ^ (z >> 31);
  }
  return state;
}

// A random stream (as torch.Generator): its state and the mutex every draw from it holds while it
// draws, as each PyTorch generator has one. Threads drawing from one generator at once therefore
// each take a run of consecutive numbers of its stream, never a torn state: together they draw a
// permutation of the runs one thread would have drawn, in an order that depends on timing.
struct Generator {
  explicit Generator(uint64_t seed = default_rng_seed) : state(seeded_rng_state(seed)) {}
  std::mutex mutex;
  RngState state;  // guarded by mutex
};

namespace kernels {
inline thread_local Generator* scoped_generator = nullptr;
}  // namespace kernels

// Within its scope this thread's draws come from `generator` (when not null) instead of the
// backend's own generator: the generator= argument of the bindings. Other threads are unaffected.
class GeneratorScope {
 public:
  explicit GeneratorScope(Generator* generator) : saved_(kernels::scoped_generator) {
    if (generator != nullptr) kernels::scoped_generator = generator;
  }
  ~GeneratorScope() { kernels::scoped_generator = saved_; }
  GeneratorScope(const GeneratorScope&) = delete;
  GeneratorScope& operator=(const GeneratorScope&) = delete;

 private:
  Generator* saved_;
};

}  // namespace tg
