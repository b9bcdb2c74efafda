// TensorImpl is the tensor: shared storage plus sizes, strides and offset in elements, dtype and
// (only once autograd touches it) autograd metadata. Tensor is the cheap handle everyone passes
// around, in C++ and, bound directly, in Python.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tapegrad/core/dim_vector.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/storage.h"

namespace tg {

class Node;
class Tensor;
struct AutogradMeta;

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, DimVector sizes, DimVector strides, int64_t storage_offset, DType dtype);
  ~TensorImpl();
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  const DimVector& sizes() const { return sizes_; }
  const DimVector& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(sizes_.size()); }
  int64_t numel() const { return numel_; }
  int64_t storage_offset() const { return storage_offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  bool is_contiguous() const { return is_contiguous_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  void* data() const { return static_cast<char*>(storage_->data()) + storage_offset_ * static_cast<int64_t>(itemsize(dtype_)); }
  uint32_t version() const { return storage_->version(); }
  void bump_version() const { storage_->bump_version(); }
  // Made by a view op: shares its data with the tensor it was made from.
  bool is_view() const { return is_view_; }
  void mark_view() { is_view_ = true; }

  // Replaces what this tensor views (the `t.data = other` setter): the handle stays, the data moves.
  void set_layout(std::shared_ptr<Storage> storage, DimVector sizes, DimVector strides, int64_t storage_offset, DType dtype);

  AutogradMeta* autograd() const { return autograd_.get(); }
  AutogradMeta& ensure_autograd();

 private:
  std::shared_ptr<Storage> storage_;
  DimVector sizes_;
  DimVector strides_;
  int64_t storage_offset_;
  int64_t numel_;
  DType dtype_;
  bool is_contiguous_;
  bool is_view_ = false;
  std::unique_ptr<AutogradMeta> autograd_;
};

// A hook sees the gradient flowing into a tensor and may return a replacement (or an undefined
// Tensor to keep it).
using TensorHook = std::function<Tensor(const Tensor&)>;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised contiguous memory; MemoryError/RuntimeError naming `op` when impossible.
  static Tensor empty(const DimVector& sizes, DType dtype, Device device = {}, const char* op = "empty");

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  const DimVector& sizes() const { return impl_->sizes(); }
  const DimVector& strides() const { return impl_->strides(); }
  int64_t dim() const { return impl_->dim(); }
  int64_t numel() const { return impl_->numel(); }
  DType dtype() const { return impl_->dtype(); }
  Device device() const { return impl_->device(); }
  bool is_contiguous() const { return impl_->is_contiguous(); }
  int64_t storage_offset() const { return impl_->storage_offset(); }
  int64_t size(int64_t dim) const;    // dim may be negative; IndexError when out of range
  int64_t stride(int64_t dim) const;
  void* raw_data() const { return impl_->data(); }
  template <typename T>
  T* data_ptr() const {
    TG_CHECK_TYPE(dtype_of<T>() == dtype(), "[data_ptr] tensor has dtype ", dtype_name(dtype()),
                  ", asked for ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw_data());
  }

  // Autograd, with PyTorch's names and meanings.
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  const std::shared_ptr<Node>& grad_fn() const;
  uint32_t output_nr() const;
  bool is_leaf() const;
  void retain_grad() const;
  bool retains_grad() const;
  // Returns the hook's id, by which HookHandle (autograd/node.h) removes it.
  uint64_t register_hook(TensorHook hook) const;
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // Same data, same version counter, no history.
  Tensor detach() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct AutogradMeta {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;        // set on non-leaves: the node that made this tensor
  std::weak_ptr<Node> grad_accumulator;  // leaves: the sink that writes .grad, made on first use
  std::vector<std::pair<uint64_t, TensorHook>> hooks;  // leaves only, by id; a non-leaf's live on its grad_fn
  uint32_t output_nr = 0;
  bool requires_grad = false;            // leaves only; a non-leaf requires grad through grad_fn
  bool retains_grad = false;
};

}  // namespace tg
