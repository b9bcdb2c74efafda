#include "tapegrad/core/storage.h"

#include <cstdlib>

#include "tapegrad/core/error.h"

namespace tg {

namespace {
constexpr size_t kAlignment = 64;  // a cache line, and what AVX-512 loads like
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device, const char* op) {
  TG_CHECK(device.is_cpu(), "[", op, "] tapegrad was built without support for device ", device.str());
  if (nbytes == 0) return std::make_shared<Storage>(nullptr, 0, device, nullptr);
  const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  void* data = rounded < nbytes ? nullptr : std::aligned_alloc(kAlignment, rounded);
  if (data == nullptr) fail<MemoryError>("[", op, "] could not allocate ", nbytes, " bytes on ", device.str());
  return std::make_shared<Storage>(data, nbytes, device, [data] { std::free(data); });
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, Device device, std::function<void()> release) {
  return std::make_shared<Storage>(data, nbytes, device, std::move(release));
}

Storage::~Storage() {
  if (release_) release_();
}

}  // namespace tg
