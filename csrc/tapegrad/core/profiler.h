// What tapegrad.profiler records: named ranges (an op's kernel call, a backward node, a Python
// record_function) with their start, duration, thread, and, when asked, input shapes and the bytes
// allocated inside them. Off by default; when no profiler runs a Range costs one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/core/dim_vector.h"

namespace tg::profiler {

struct Event {
  std::string name;
  uint32_t thread;       // a small number per thread, in order of first use
  int64_t start_ns;      // from the profiler's start
  int64_t duration_ns;
  std::optional<std::vector<DimVector>> input_shapes;  // with record_shapes
  int64_t allocated_bytes;  // with profile_memory: allocated inside this range, not its children
};

namespace detail {
extern std::atomic<bool> g_enabled;
}  // namespace detail

inline bool is_enabled() { return detail::g_enabled.load(std::memory_order_relaxed); }
// Starts recording in every thread; RuntimeError if a profiler already runs.
void start(bool record_shapes, bool profile_memory);
// Stops recording and hands over what was recorded, in order of completion. Ranges still open
// then are dropped.
std::vector<Event> stop();
bool records_shapes();

// Opens a range on this thread (nested ranges must close in reverse order) and closes it.
// Returns false, opening nothing, when no profiler runs.
bool push(std::string name, std::optional<std::vector<DimVector>> input_shapes = std::nullopt);
void pop();
// Counts `bytes` against this thread's innermost open range (profile_memory only).
void record_allocation(size_t bytes);

// A range for a scope: open from construction (if a profiler runs) to destruction.
class Range {
 public:
  explicit Range(const char* name) {
    if (is_enabled()) [[unlikely]] active_ = push(name);
  }
  explicit Range(const std::string& name) {
    if (is_enabled()) [[unlikely]] active_ = push(name);
  }
  ~Range() {
    if (active_) pop();
  }
  Range(const Range&) = delete;
  Range& operator=(const Range&) = delete;

 private:
  bool active_ = false;
};

}  // namespace tg::profiler
