// Random draws from several threads at once (Python threads draw without the GIL too). What is
// guaranteed (kernels/creation.h): each draw holds its generator's mutex, so one call's numbers are
// a run of consecutive numbers of the stream and the state is never torn; threads drawing from one
// generator at once get, together, a permutation of the runs that the same calls made one after
// another would have drawn. Threads drawing from generators of their own do not meet at all.
//
// Built by CMake with -DTAPEGRAD_BUILD_TESTS=ON (tests/cpp/CMakeLists.txt) and run by .ci/run
// (also under ThreadSanitizer).
#include <algorithm>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "tapegrad/tapegrad.h"

namespace {

using cpp_test::check;

constexpr int kThreads = 2;  // CI has two cores: more would spin on a core the others need
constexpr int kDrawsPerThread = 1000;
constexpr int64_t kRunLength = 64;

std::vector<double> values_of(const tg::Tensor& draws) {
  const double* data = draws.data_ptr<double>();
  return std::vector<double>(data, data + draws.numel());
}

// The runs kThreads * kDrawsPerThread calls of rand(kRunLength) draw one after another after
// manual_seed(seed), in order.
std::vector<std::vector<double>> sequential_runs(uint64_t seed) {
  tg::manual_seed(seed);
  std::vector<std::vector<double>> runs;
  for (int i = 0; i < kThreads * kDrawsPerThread; ++i)
    runs.push_back(values_of(tg::rand({kRunLength}, tg::DType::Float64)));
  return runs;
}

void test_threads_drawing_from_the_default_generator_get_a_permutation_of_its_runs() {
  const uint64_t seed = 1234;
  std::vector<std::vector<double>> expected = sequential_runs(seed);
  tg::manual_seed(seed);
  std::vector<std::vector<std::vector<double>>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kDrawsPerThread; ++i) drawn[t].push_back(values_of(tg::rand({kRunLength}, tg::DType::Float64)));
    });
  for (auto& thread : threads) thread.join();
  std::vector<std::vector<double>> got;
  for (const auto& runs : drawn) got.insert(got.end(), runs.begin(), runs.end());
  // Each run whole (no number from another call inside it) and each run drawn exactly once.
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  check(got == expected, "concurrent draws are a permutation of the sequential runs");
  // And the stream ends where the sequential draws left it.
  const tg::RngState after_concurrent = tg::get_rng_state();
  sequential_runs(seed);
  const tg::RngState after_sequential = tg::get_rng_state();
  check(std::equal(std::begin(after_concurrent.words), std::end(after_concurrent.words), after_sequential.words),
        "the generator's state after the concurrent draws is the sequential one's");
}

void test_threads_with_generators_of_their_own_draw_their_own_streams() {
  const std::vector<std::vector<double>> expected = sequential_runs(99);
  std::vector<tg::Generator> generators(kThreads);
  std::vector<std::vector<std::vector<double>>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    generators[t].state = tg::seeded_rng_state(99);
    threads.emplace_back([&, t] {
      const tg::GeneratorScope scope(&generators[t]);
      for (int i = 0; i < kThreads * kDrawsPerThread; ++i)
        drawn[t].push_back(values_of(tg::rand({kRunLength}, tg::DType::Float64)));
    });
  }
  // Meanwhile this thread draws from the default generator, which must not disturb them.
  for (int i = 0; i < kDrawsPerThread; ++i) tg::randn({kRunLength}, tg::DType::Float64);
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t)
    check(drawn[t] == expected, "thread " + std::to_string(t) + " drew its own generator's stream");
}

}  // namespace

int main() {
  test_threads_drawing_from_the_default_generator_get_a_permutation_of_its_runs();
  test_threads_with_generators_of_their_own_draw_their_own_streams();
  return cpp_test::summary();
}
