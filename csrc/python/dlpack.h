// The DLPack ABI (https://dmlc.github.io/dlpack/latest/c_api.html), the structs only: written
// from the specification so tapegrad needs no extra dependency. Layouts must match the spec byte
// for byte, since producers and consumers in other libraries read them directly.
#pragma once

#include <cstdint>

extern "C" {

// DLDeviceType values this module meets; the spec defines more (CUDA host, ROCm, ...).
enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2 };

struct DLDevice {
  int32_t device_type;  // a DLDeviceType
  int32_t device_id;
};

// DLDataTypeCode: the kind of number an element is.
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLOpaqueHandle = 3, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };

struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
};

// The pre-1.0 form, in capsules named "dltensor" (renamed "used_dltensor" once consumed).
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};

constexpr uint64_t kDLPackFlagReadOnly = 1ULL << 0;
constexpr uint64_t kDLPackFlagIsCopied = 1ULL << 1;

// The 1.x form, in capsules named "dltensor_versioned" ("used_dltensor_versioned" once consumed).
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};

}  // extern "C"

namespace tg::python {
// The DLPack version this module produces and understands.
constexpr uint32_t kDLPackMajorVersion = 1;
constexpr uint32_t kDLPackMinorVersion = 0;
}  // namespace tg::python
