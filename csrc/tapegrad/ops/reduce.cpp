#include "tapegrad/ops/reduce.h"

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// The output shape of a reduction with keepdim, and the mask of reduced dims.
DimVector reduced_shape(const DimVector& sizes, const std::vector<bool>& reduced, bool keepdim) {
  DimVector shape;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (!reduced[d]) shape.push_back(sizes[d]);
    else if (keepdim) shape.push_back(1);
  }
  return shape;
}

struct SumBackward final : Node {
  DimVector input_sizes, kept_sizes;  // kept_sizes: the output shape with keepdim=True
  explicit SumBackward(DimVector in, DimVector kept) : input_sizes(std::move(in)), kept_sizes(std::move(kept)) {}
  TensorList apply(TensorList&& grads) override { return {expand(reshape(grads[0], kept_sizes), input_sizes)}; }
  std::string name() const override { return "SumBackward1"; }
};

}  // namespace

Tensor sum(const Tensor& self, const DimVector& dims, bool keepdim, std::optional<DType> dtype) {
  const DType out_dtype = dtype ? *dtype : is_floating(self.dtype()) ? self.dtype() : DType::Int64;
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "sum");
  const DimVector kept = reduced_shape(self.sizes(), reduced, true);
  Tensor out = zeros(reduced_shape(self.sizes(), reduced, keepdim), out_dtype, self.device());
  {
    NoGradGuard no_grad;
    const Tensor input = to_dtype(self, out_dtype);
    kernels::require_cpu("sum", input);
    // Accumulate through an output view with stride 0 along the reduced dims.
    DimVector strides(self.dim(), 0);
    const DimVector kept_strides = contiguous_strides(kept);
    for (int64_t d = 0; d < self.dim(); ++d)
      if (!reduced[d]) strides[d] = kept_strides[d];
    dispatch_all(out_dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const auto loop = cpu::make_loop<2>(
          self.sizes(), {cpu::Operand{static_cast<char*>(out.raw_data()), strides},
                         cpu::Operand{static_cast<char*>(input.raw_data()), input.strides()}},
          {sizeof(T), sizeof(T)});
      cpu::for_each_run(loop, 0, loop.numel, [](int64_t n, const std::array<char*, 2>& p, const std::array<int64_t, 2>& s) {
        T* out_data = reinterpret_cast<T*>(p[0]);
        const T* in_data = reinterpret_cast<const T*>(p[1]);
        for (int64_t i = 0; i < n; ++i) out_data[i * s[0]] += in_data[i * s[1]];
      });
    });
  }
  if (needs_grad(self)) make_node<SumBackward>(self.sizes(), kept)->connect({&self}, {&out});
  return out;
}

Tensor mean(const Tensor& self, const DimVector& dims, bool keepdim) {
  TG_CHECK_TYPE(is_floating(self.dtype()), "[mean] could not infer output dtype: input dtype must be floating point, got ",
                dtype_name(self.dtype()));
  const std::vector<bool> reduced = dims_to_mask(dims, self.dim(), "mean");
  int64_t count = 1;
  for (int64_t d = 0; d < self.dim(); ++d)
    if (reduced[d]) count *= self.sizes()[d];
  return div(sum(self, dims, keepdim), Scalar(static_cast<double>(count)));
}

Tensor sum_to(const Tensor& grad, const DimVector& shape) {
  if (grad.sizes() == shape) return grad;
  const int64_t leading = grad.dim() - static_cast<int64_t>(shape.size());
  DimVector dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < leading || (shape[d - leading] == 1 && grad.sizes()[d] != 1)) dims.push_back(d);
  if (dims.empty()) return reshape(grad, shape);
  return reshape(sum(grad, dims, /*keepdim=*/true), shape);
}

}  // namespace tg
