#include "tapegrad/core/tensor.h"

#include <atomic>

#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/node.h"
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
      is_contiguous_(is_contiguous_layout(sizes_, strides_)) {}

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
}

AutogradMeta& TensorImpl::ensure_autograd() {
  if (!autograd_) autograd_ = std::make_unique<AutogradMeta>();
  return *autograd_;
}

Tensor Tensor::empty(const DimVector& sizes, DType dtype, Device device, const char* op) {
  const int64_t numel = checked_numel(sizes, op);
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), itemsize(dtype), &nbytes))
    fail<MemoryError>("[", op, "] shape ", sizes, " needs more bytes than can be addressed");
  auto storage = Storage::allocate(nbytes, device, op);
  return Tensor(std::make_shared<TensorImpl>(std::move(storage), sizes, contiguous_strides(sizes), 0, dtype));
}

int64_t Tensor::size(int64_t dim) const { return sizes()[wrap_dim(dim, this->dim(), "size")]; }
int64_t Tensor::stride(int64_t dim) const { return strides()[wrap_dim(dim, this->dim(), "stride")]; }

bool Tensor::requires_grad() const {
  const AutogradMeta* meta = impl_->autograd();
  return meta && (meta->requires_grad || meta->grad_fn);
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
  TG_CHECK(is_leaf(), "[requires_grad_] you can only change requires_grad flags of leaf tensors; this one has grad_fn ",
           grad_fn()->name(), ". Use .detach() to get a leaf.");
  TG_CHECK(!requires_grad || is_floating(dtype()),
           "[requires_grad_] only tensors of floating point dtype can require gradients, got ", dtype_name(dtype()));
  if (requires_grad || impl_->autograd()) impl_->ensure_autograd().requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const AutogradMeta* meta = impl_->autograd();
  return meta ? meta->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined()) {
    TG_CHECK(grad.sizes() == sizes(), "[grad] assigned grad has shape ", grad.sizes(), " but the tensor has shape ", sizes());
    TG_CHECK(grad.dtype() == dtype(), "[grad] assigned grad has data of a different type: ", dtype_name(grad.dtype()),
             " but the tensor has dtype ", dtype_name(dtype()));
  }
  if (grad.defined() || impl_->autograd()) impl_->ensure_autograd().grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  const AutogradMeta* meta = impl_->autograd();
  return meta ? meta->grad_fn : none;
}

uint32_t Tensor::output_nr() const {
  const AutogradMeta* meta = impl_->autograd();
  return meta ? meta->output_nr : 0;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::retain_grad() const {
  TG_CHECK(requires_grad(), "[retain_grad] can't retain_grad on a tensor that has requires_grad=False");
  if (is_leaf()) return;  // leaves keep their grad anyway
  AutogradMeta& meta = impl_->ensure_autograd();
  if (meta.retains_grad) return;
  meta.retains_grad = true;
  meta.grad_fn->retain_output_grad(meta.output_nr, impl_);
}

bool Tensor::retains_grad() const {
  const AutogradMeta* meta = impl_->autograd();
  return meta && meta->retains_grad;
}

uint64_t Tensor::register_hook(TensorHook hook) const {
  TG_CHECK(requires_grad(), "[register_hook] cannot register a hook on a tensor that doesn't require gradient");
  static std::atomic<uint64_t> next_id{0};
  const uint64_t id = next_id++;
  AutogradMeta& meta = impl_->ensure_autograd();
  if (meta.grad_fn) meta.grad_fn->add_output_hook(meta.output_nr, id, std::move(hook));
  else meta.hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph.value_or(create_graph), create_graph);
}

Tensor Tensor::detach() const {
  return Tensor(std::make_shared<TensorImpl>(impl_->storage(), sizes(), strides(), storage_offset(), dtype()));
}

}  // namespace tg
