// How a kernels:: entry point (kernels/dispatch.cpp) picks its backend: by the device its tensors
// share. The same idea as PyTorch's DispatchStub and MLX's eval_cpu/eval_gpu, kept to a switch: no
// registry and no indirect call, so dispatching costs a device comparison per tensor.
#pragma once

#include <initializer_list>

#include "tapegrad/core/error.h"
#include "tapegrad/core/tensor.h"

namespace tg::kernels {

// RuntimeError naming op and the first two devices that differ among `tensors`.
[[noreturn]] void fail_mixed_devices(const char* op, std::initializer_list<const Tensor*> tensors);
// NotImplementedError: no backend for `device` in this build.
[[noreturn]] void fail_no_backend(const char* op, Device device);

// The device type of `first`, which every other defined tensor must share (undefined ones are
// absent optional operands).
template <typename... Rest>
DeviceType backend_of(const char* op, const Tensor& first, const Rest&... rest) {
  const Device device = first.device();
  if (((rest.defined() && rest.device() != device) || ...)) [[unlikely]]
    fail_mixed_devices(op, {&first, &rest...});
  return device.type;
}

}  // namespace tg::kernels
