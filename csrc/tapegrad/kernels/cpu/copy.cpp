#include <cstring>

#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/kernels.h"

namespace tg::kernels {

void require_cpu(const char* op, const Tensor& tensor) {
  TG_CHECK(tensor.device().is_cpu(), "[", op, "] not implemented for device ", tensor.device().str(),
           " (tapegrad was built without CUDA kernels)");
}

void copy(const Tensor& dst, const Tensor& src) {
  require_cpu("copy", dst);
  require_cpu("copy", src);
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous() && dst.sizes() == src.sizes()) {
    const size_t nbytes = static_cast<size_t>(dst.numel()) * itemsize(dst.dtype());
    if (nbytes > 0 && dst.raw_data() != src.raw_data()) std::memmove(dst.raw_data(), src.raw_data(), nbytes);
    return;
  }
  const auto loop = cpu::tensor_loop(dst, src);
  dispatch_all(dst.dtype(), [&](auto out_tag) {
    using Out = typename decltype(out_tag)::type;
    dispatch_all(src.dtype(), [&](auto in_tag) {
      using In = typename decltype(in_tag)::type;
      cpu::map_unary<Out, In>(loop, [](In value) { return static_cast<Out>(value); });
    });
  });
}

void fill(const Tensor& dst, Scalar value) {
  require_cpu("fill_", dst);
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T typed = value.to<T>();
    if (dst.is_contiguous()) {
      T* data = static_cast<T*>(dst.raw_data());
      std::fill(data, data + dst.numel(), typed);
      return;
    }
    // A broadcast scalar operand: stride 0 everywhere.
    const auto loop = cpu::make_loop<2>(dst.sizes(),
                                        {cpu::Operand{static_cast<char*>(dst.raw_data()), dst.strides()},
                                         cpu::Operand{reinterpret_cast<char*>(const_cast<T*>(&typed)),
                                                      DimVector(dst.sizes().size(), 0)}},
                                        {sizeof(T), sizeof(T)});
    cpu::map_unary<T, T>(loop, [](T v) { return v; });
  });
}

}  // namespace tg::kernels
