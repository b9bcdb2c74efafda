// Autograd from several threads at once, as the Python bindings allow: ops record without the GIL.
// Here C++ threads have no GIL at all, so they really do meet inside the core.
//
// Built by CMake with -DTAPEGRAD_BUILD_TESTS=ON (tests/cpp/CMakeLists.txt) and run by .ci/run.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "tapegrad/tapegrad.h"

namespace {

using cpp_test::check;

// After an in-place write to its base, a view's grad_fn is derived again by whichever thread asks
// first. Threads that ask at the same moment must all get the one history: without a lock each
// derived its own and wrote it into the view (racing writes to one shared_ptr), and they came back
// with different nodes in most rounds.
void test_threads_derive_one_history_for_a_stale_view() {
  constexpr int kThreads = 2;  // CI has two cores: more would spin on a core the others need
  constexpr int kRounds = 2000;
  int rounds_with_two_histories = 0, rounds_with_a_wrong_history = 0;
  for (int round = 0; round < kRounds; ++round) {
    tg::Tensor x = tg::ones({2, 8}, tg::DType::Float32);
    x.requires_grad_();
    tg::Tensor base = tg::mul(x, tg::Scalar(1.0));
    const tg::Tensor view = tg::select(base, 0, 0);
    tg::mul_(base, tg::Scalar(2.0));  // the view's history is stale from here on

    std::atomic<int> ready{0};
    std::vector<std::shared_ptr<tg::Node>> seen(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Spin, not block, so that the threads leave together.
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        seen[static_cast<size_t>(t)] = view.grad_fn();
      });
    }
    for (std::thread& thread : threads) thread.join();
    bool same = true;
    for (const auto& node : seen) same = same && node == seen[0];
    rounds_with_two_histories += !same;
    rounds_with_a_wrong_history += !(seen[0] && seen[0]->name() == "AsStridedBackward0" && view.grad_fn() == seen[0]);
  }
  check(rounds_with_two_histories == 0, "threads asking a stale view for its grad_fn at once got different histories in " +
                                            std::to_string(rounds_with_two_histories) + " of " +
                                            std::to_string(kRounds) + " rounds");
  check(rounds_with_a_wrong_history == 0, "the view's history was not its one AsStridedBackward0 in " +
                                              std::to_string(rounds_with_a_wrong_history) + " of " +
                                              std::to_string(kRounds) + " rounds");
}

}  // namespace

int main() {
  test_threads_derive_one_history_for_a_stale_view();
  return cpp_test::summary();
}
