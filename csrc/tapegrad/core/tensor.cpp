#include "tapegrad/core/tensor.h"

#include <atomic>

#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/ops/view.h"

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
  view_base_ = nullptr;
  view_created_in_no_grad_ = false;
}

void TensorImpl::set_view_base(std::shared_ptr<TensorImpl> base, bool created_in_no_grad) {
  view_base_ = std::move(base);
  set_view_version(version());
  view_created_in_no_grad_ = created_in_no_grad;
}

AutogradMeta& TensorImpl::ensure_autograd() {
  if (!autograd_) autograd_ = std::make_unique<AutogradMeta>();
  return *autograd_;
}

namespace {
// Memory for `sizes` elements of `dtype` laid out densely, as `strides` (in elements) lay them.
Tensor allocate_dense(const DimVector& sizes, DimVector strides, DType dtype, Device device, const char* op) {
  const int64_t numel = checked_numel(sizes, op);
  size_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(numel), itemsize(dtype), &nbytes))
    fail<MemoryError>("[", op, "] shape ", sizes, " needs more bytes than can be addressed");
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

namespace {
bool has_history_or_requires_grad(const TensorImpl& impl) {
  const AutogradMeta* meta = impl.autograd();
  return meta && (meta->requires_grad || meta->grad_fn);
}
}  // namespace

bool Tensor::requires_grad() const {
  if (has_history_or_requires_grad(*impl_)) return true;
  // As in PyTorch, a view requires grad whenever its base does, even before it has a grad_fn of its
  // own (a view made in no_grad mode, or before the base took history from an in-place op).
  return impl_->is_view() && has_history_or_requires_grad(*impl_->view_base());
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
  if (impl_->is_view() && impl_->view_version() != impl_->version()) derive_view_grad_fn(*this, /*only_if_stale=*/true);
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
  const std::shared_ptr<Node>& node = grad_fn();
  AutogradMeta& meta = impl_->ensure_autograd();
  if (node) node->add_output_hook(meta.output_nr, id, std::move(hook));
  else meta.hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph.value_or(create_graph), create_graph);
}

Tensor Tensor::detach() const {
  return Tensor(std::make_shared<TensorImpl>(impl_->storage(), sizes(), strides(), storage_offset(), dtype()));
}

Tensor& Tensor::detach_() {
  TG_CHECK(!impl_->is_view(), "[detach_] Can't detach views in-place. Use detach() instead.");
  if (AutogradMeta* meta = impl_->autograd()) {
    meta->grad_fn = nullptr;
    meta->output_nr = 0;
    meta->requires_grad = false;
  }
  return *this;
}

void Tensor::set_data(const Tensor& data) const {
  TG_CHECK(!requires_grad() || is_floating(data.dtype()),
           "[data] data set to a tensor that requires gradients must be floating point, got ", dtype_name(data.dtype()));
  // A leaf's gradient sink expects the old shape and dtype; the next use makes a new one.
  AutogradMeta* meta = impl_->autograd();
  if (meta && (data.dtype() != dtype() || data.sizes() != sizes())) meta->grad_accumulator.reset();
  impl_->set_layout(data.impl()->storage(), data.sizes(), data.strides(), data.storage_offset(), data.dtype());
}

}  // namespace tg
