#include "tapegrad/autograd/anomaly_mode.h"

#include <mutex>
#include <utility>

namespace tg {

std::atomic<bool> AnomalyMode::enabled_{false};
std::atomic<bool> AnomalyMode::check_nan_{true};

namespace {
std::mutex provider_mutex;
std::function<std::string()> stack_provider;
}  // namespace

void AnomalyMode::set_enabled(bool enabled, bool check_nan) {
  check_nan_.store(check_nan);
  enabled_.store(enabled);
}

void AnomalyMode::set_stack_provider(std::function<std::string()> provider) {
  std::lock_guard<std::mutex> lock(provider_mutex);
  stack_provider = std::move(provider);
}

std::string AnomalyMode::capture_stack() {
  std::function<std::string()> provider;
  {
    std::lock_guard<std::mutex> lock(provider_mutex);
    provider = stack_provider;
  }
  return provider ? provider() : std::string();
}

}  // namespace tg
