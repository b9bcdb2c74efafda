#include "tapegrad/core/device.h"

#include <charconv>

#include "tapegrad/core/error.h"

namespace tg {

std::string Device::str() const {
  std::string name = type == DeviceType::CPU ? "cpu" : "cuda";
  if (index >= 0) {
    // Two appends, not ":" + to_string(...): GCC 12 warns (-Wrestrict, falsely) on the temporary.
    name += ':';
    name += std::to_string(index);
  }
  return name;
}

Device Device::parse(std::string_view text) {
  Device device;
  std::string_view kind = text.substr(0, text.find(':'));
  if (kind == "cpu") device.type = DeviceType::CPU;
  else if (kind == "cuda") device.type = DeviceType::CUDA;
  else fail<ValueError>("device", "expected a device like 'cpu', 'cuda' or 'cuda:0', got '", text, "'");
  if (kind.size() < text.size()) {
    std::string_view digits = text.substr(kind.size() + 1);
    int index = -1;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    TG_CHECK_VALUE(error == std::errc() && end == digits.data() + digits.size() && index >= 0 && index < 1024,
                   "device", "invalid device index in '", text, "'");
    device.index = static_cast<int16_t>(index);
  }
  return device;
}

}  // namespace tg
