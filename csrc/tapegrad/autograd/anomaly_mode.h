// Anomaly detection, as PyTorch's detect_anomaly: while it is on, every node remembers where the
// forward pass created it (a stack the frontend captures, through the provider it installs), and
// backward checks the gradients each node returns, raising an error that names the node and the
// output and shows that stack. Off by default, and then free: one relaxed load per node. A global
// switch, as PyTorch's (not per thread).
#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace tg {

class AnomalyMode {
 public:
  static bool is_enabled() { return enabled_.load(std::memory_order_relaxed); }
  static bool should_check_nan() { return check_nan_.load(std::memory_order_relaxed); }
  static void set_enabled(bool enabled, bool check_nan = true);

  // How to capture "where are we" when a node is made (the Python bindings install one that formats
  // the Python stack). Without one, nodes remember nothing.
  static void set_stack_provider(std::function<std::string()> provider);
  static std::string capture_stack();

 private:
  static std::atomic<bool> enabled_;
  static std::atomic<bool> check_nan_;
};

}  // namespace tg
