// A block of memory that tensors view. Views share one Storage and so one version counter: an
// in-place write through any of them bumps it, which is how autograd notices that a tensor it
// saved for backward was overwritten. (A tensor made by `.data` counts on its own instead: see
// TensorImpl::version.)
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "tapegrad/core/device.h"

namespace tg {

class Storage {
 public:
  // Fresh memory, 64-byte aligned. MemoryError (std::bad_alloc) when it cannot be had; `op` names
  // the caller in that message.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device, const char* op = "empty");
  // Memory owned by someone else (a NumPy array, a DLPack producer): `release` runs when the last
  // tensor viewing it goes away.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, Device device, std::function<void()> release);

  Storage(void* data, size_t nbytes, Device device, std::function<void()> release)
      : data_(data), nbytes_(nbytes), device_(device), release_(std::move(release)) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_;
  size_t nbytes_;
  Device device_;
  std::function<void()> release_;
  std::atomic<uint32_t> version_{0};
};

}  // namespace tg
