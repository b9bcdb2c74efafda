#include "tapegrad/core/storage.h"

#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tapegrad/core/error.h"
#include "tapegrad/core/profiler.h"

namespace tg {

namespace {

constexpr size_t kAlignment = 64;                  // a cache line, and what AVX-512 loads like
constexpr size_t kMaxCachedBytes = size_t{256} << 20;
constexpr size_t kHugePageThreshold = size_t{2} << 20;

// Rounds a request up to its size class: exact multiples of 64 bytes up to 4 KiB, then eight
// classes per power of two (at most 12.5% slack), so freed blocks are found again by the next
// request of about the same size.
size_t size_class(size_t nbytes) {
  if (nbytes <= 4096) return (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  const size_t step = size_t{1} << (63 - __builtin_clzll(nbytes) - 3);
  return (nbytes + step - 1) / step * step;
}

// Keeps freed CPU blocks for reuse. A training step allocates the same sizes every iteration;
// serving them from this cache avoids malloc's mmap/munmap round trip and the page faults of
// fresh memory, which otherwise cost more than the arithmetic on a large tensor.
class CachingCpuAllocator {
 public:
  void* allocate(size_t rounded) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_blocks_.find(rounded);
      if (it != free_blocks_.end() && !it->second.empty()) {
        void* block = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= rounded;
        return block;
      }
    }
    void* block = std::aligned_alloc(kAlignment, rounded);
    // Large blocks on huge pages fault in 512 times fewer pages (NumPy does the same).
    if (block != nullptr && rounded >= kHugePageThreshold) madvise(block, rounded, MADV_HUGEPAGE);
    return block;
  }

  void release(void* block, size_t rounded) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + rounded <= kMaxCachedBytes) {
        free_blocks_[rounded].push_back(block);
        cached_bytes_ += rounded;
        return;
      }
    }
    std::free(block);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;
  size_t cached_bytes_ = 0;
};

// Never destroyed: storages may be freed during static destruction, after it would have been.
CachingCpuAllocator& cpu_allocator() {
  static auto* allocator = new CachingCpuAllocator();
  return *allocator;
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device, const char* op) {
  TG_CHECK(device.is_cpu(), op, "tapegrad was built without support for device ", device.str());
  if (nbytes == 0) return std::make_shared<Storage>(nullptr, 0, device, nullptr);
  TG_CHECK(nbytes <= (size_t{1} << 62), op, "cannot allocate ", nbytes, " bytes");
  const size_t rounded = size_class(nbytes);
  void* data = cpu_allocator().allocate(rounded);
  if (data == nullptr) fail<MemoryError>(op, "could not allocate ", nbytes, " bytes on ", device.str());
  if (profiler::is_enabled()) [[unlikely]]
    profiler::record_allocation(nbytes);
  return std::make_shared<Storage>(data, nbytes, device, [data, rounded] { cpu_allocator().release(data, rounded); });
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device, std::function<void()> release) {
  return std::make_shared<Storage>(data, nbytes, device, std::move(release));
}

Storage::~Storage() {
  if (release_) release_();
}

}  // namespace tg
