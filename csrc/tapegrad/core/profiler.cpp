#include "tapegrad/core/profiler.h"

#include <chrono>
#include <mutex>
#include <utility>

#include "tapegrad/core/error.h"

namespace tg::profiler {

namespace detail {
std::atomic<bool> g_enabled{false};
}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

// One recording at a time. Open ranges remember the session they belong to, so that a range
// opened before a stop and closed after the next start is not taken for one of the new session.
struct Session {
  std::mutex mutex;
  uint64_t id = 0;
  Clock::time_point origin;
  std::atomic<bool> record_shapes{false};  // read by recording threads without the lock
  std::atomic<bool> profile_memory{false};
  std::vector<Event> events;
};
Session g_session;
std::atomic<uint32_t> g_next_thread{0};

struct OpenRange {
  std::string name;
  std::optional<std::vector<DimVector>> input_shapes;
  Clock::time_point start;
  uint64_t session;
  int64_t allocated_bytes = 0;
};
thread_local std::vector<OpenRange> t_open;
thread_local uint32_t t_thread = g_next_thread.fetch_add(1);

}  // namespace

void start(bool record_shapes, bool profile_memory) {
  std::lock_guard<std::mutex> lock(g_session.mutex);
  TG_CHECK(!detail::g_enabled.load(), "profiler", "a profiler is already running; one may run at a time");
  ++g_session.id;
  g_session.origin = Clock::now();
  g_session.record_shapes = record_shapes;
  g_session.profile_memory = profile_memory;
  g_session.events.clear();
  detail::g_enabled.store(true);
}

std::vector<Event> stop() {
  std::lock_guard<std::mutex> lock(g_session.mutex);
  detail::g_enabled.store(false);
  ++g_session.id;  // ranges still open belong to no session now
  return std::exchange(g_session.events, {});
}

bool records_shapes() { return g_session.record_shapes.load(std::memory_order_relaxed); }

bool push(std::string name, std::optional<std::vector<DimVector>> input_shapes) {
  if (!is_enabled()) return false;
  uint64_t session;
  {
    std::lock_guard<std::mutex> lock(g_session.mutex);
    session = g_session.id;
    if (!g_session.record_shapes.load()) input_shapes.reset();
  }
  t_open.push_back({std::move(name), std::move(input_shapes), Clock::now(), session});
  return true;
}

void pop() {
  if (t_open.empty()) return;
  const Clock::time_point end = Clock::now();
  OpenRange range = std::move(t_open.back());
  t_open.pop_back();
  std::lock_guard<std::mutex> lock(g_session.mutex);
  if (range.session != g_session.id) return;
  const auto since = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
  };
  g_session.events.push_back({std::move(range.name), t_thread, since(g_session.origin, range.start),
                              since(range.start, end), std::move(range.input_shapes), range.allocated_bytes});
}

void record_allocation(size_t bytes) {
  if (!is_enabled() || !g_session.profile_memory.load(std::memory_order_relaxed) || t_open.empty()) return;
  t_open.back().allocated_bytes += static_cast<int64_t>(bytes);
}

}  // namespace tg::profiler
