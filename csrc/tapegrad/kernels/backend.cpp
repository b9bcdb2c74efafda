// The table backend_for() reads, and the errors of kernels::backend(). A new backend is one class
// deriving from Backend (under kernels/<backend>/) and its instance in this table; ops and
// autograd stay as they are.
#include "tapegrad/kernels/backend.h"

#include "tapegrad/core/error.h"
#include "tapegrad/kernels/cpu/backend.h"

namespace tg::kernels {

namespace detail {
// In DeviceType order: CPU, CUDA.
Backend* const backend_by_device_type[kDeviceTypes] = {&cpu::cpu_backend, nullptr};
}  // namespace detail

void fail_mixed_devices(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Device first = (*tensors.begin())->device();
  for (const Tensor* tensor : tensors)
    if (tensor->defined() && tensor->device() != first)
      fail<Error>(op, "expected all tensors to be on the same device, but found at least two devices, ",
                  first.str(), " and ", tensor->device().str());
  fail<Error>(op, "expected all tensors to be on the same device");
}

void fail_no_backend(const char* op, Device device) {
  fail<NotImplementedError>(op, "not implemented for device ", device.str(),
                            " (tapegrad was built without CUDA)");
}

bool BackendCall::open_profiler_range(const char* op, std::initializer_list<const Tensor*> tensors) {
  if (!profiler::records_shapes()) return profiler::push(op);
  std::vector<DimVector> shapes;
  for (const Tensor* tensor : tensors)
    if (tensor->defined()) shapes.push_back(tensor->sizes());
  return profiler::push(op, std::move(shapes));
}

}  // namespace tg::kernels
