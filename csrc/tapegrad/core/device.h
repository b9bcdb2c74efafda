// Where a tensor's memory lives. Part of every tensor from the start, so that ops dispatch to
// kernels by device and a CUDA backend adds kernels without touching op or autograd code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tg {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int16_t index = -1;  // -1: the current device of that type

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const;
  // "cpu", "cuda", "cuda:1"; anything else is a ValueError naming the string.
  static Device parse(std::string_view text);
};

}  // namespace tg
