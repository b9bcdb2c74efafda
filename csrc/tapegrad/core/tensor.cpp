#include "tapegrad/core/tensor.h"

#include "tapegrad/core/inference_mode.h"
#include "tapegrad/core/shape.h"

namespace tg {

TensorImpl::TensorImpl(std::shared_ptr<Storage> storage, DimVector sizes, DimVector strides, int64_t storage_offset,
                       DType dtype)
    : storage_(std::move(storage)),
      sizes_(std::move(sizes)),
      strides_(std::move(strides)),
      storage_offset_(storage_offset),
      numel_(checked_numel(sizes_, "tensor")),
      dtype_(dtype),
      is_contiguous_(is_contiguous_layout(sizes_, strides_)),
      is_inference_(InferenceMode::is_enabled()) {}

TensorImpl::~TensorImpl() = default;

void TensorImpl::set_layout(std::shared_ptr<Storage> storage, DimVector sizes, DimVector strides,
                            int64_t storage_offset, DType dtype) {
  storage_ = std::move(storage);
  sizes_ = std::move(sizes);
  strides_ = std::move(strides);
  storage_offset_ = storage_offset;
  numel_ = checked_numel(sizes_, "tensor");
  dtype_ = dtype;
  is_contiguous_ = is_contiguous_layout(sizes_, strides_);
  view_base_ = nullptr;
  view_created_in_no_grad_ = false;
}

void TensorImpl::set_view_base(std::shared_ptr<TensorImpl> base, bool created_in_no_grad) {
  // Every view in a chain shares its root's counter; a view of a normal tensor made in inference
  // mode is a normal tensor, as in PyTorch.
  inherit_alias_state(*base);
  view_base_ = std::move(base);
  set_view_version(version());
  view_created_in_no_grad_ = created_in_no_grad;
}

namespace {
// Memory for `sizes` elements of `dtype` laid out densely, as `strides` (in elements) lay them.
Tensor allocate_dense(const DimVector& sizes, DimVector strides, DType dtype, Device device, const char* op) {
  const int64_t numel = checked_numel(sizes, op);
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), itemsize(dtype), &nbytes))
    fail<MemoryError>(op, "shape ", sizes, " needs more bytes than can be addressed");
  auto storage = Storage::allocate(nbytes, device, op);
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), sizes, std::move(strides), 0, dtype));
}
}  // namespace

Tensor Tensor::empty(const DimVector& sizes, DType dtype, Device device, const char* op) {
  return allocate_dense(sizes, contiguous_strides(sizes, op), dtype, device, op);
}

Tensor Tensor::empty_like_layout(const Tensor& like, DType dtype, Device device, const char* op) {
  return allocate_dense(like.sizes(), preserved_strides(like.sizes(), like.strides()), dtype, device, op);
}

int64_t Tensor::size(int64_t dim) const { return sizes()[wrap_dim(dim, this->dim(), "size")]; }
int64_t Tensor::stride(int64_t dim) const { return strides()[wrap_dim(dim, this->dim(), "stride")]; }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>(impl_->storage(), sizes(), strides(), storage_offset(), dtype());
  impl->inherit_alias_state(*impl_);
  return Tensor(std::move(impl));
}

Tensor Tensor::variable_data() const {
  Tensor data = detach();
  data.impl()->start_own_version_counter();
  return data;
}

}  // namespace tg
