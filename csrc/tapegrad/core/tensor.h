// TensorImpl is the tensor: shared storage plus sizes, strides and offset in elements, dtype and
// (only once autograd touches it) an opaque autograd slot. Tensor is the cheap handle everyone
// passes around, in C++ and, bound directly, in Python. As PyTorch splits TensorImpl from
// variable.h, core knows nothing of autograd: what fills the slot (AutogradMeta) and the
// definitions of Tensor's autograd methods live in autograd/variable.{h,cpp}.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tapegrad/core/dim_vector.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/storage.h"

namespace tg {

class Node;
class Tensor;

// The slot's type as core sees it: something autograd owns, destroyed with the tensor.
struct AutogradMetaInterface {
  virtual ~AutogradMetaInterface() = default;
};

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
  // The version counter is the storage's, shared by every tensor viewing it, except for a tensor
  // made by `.data` (Tensor::variable_data): that one starts a counter of its own, as PyTorch's
  // does, which its views and detach()es share (inherit_alias_state), so that writes through
  // `.data` are not seen by autograd and writes through detach() are.
  uint32_t version() const {
    return version_counter_ ? version_counter_->load(std::memory_order_relaxed) : storage_->version();
  }
  void bump_version() const {
    if (version_counter_) version_counter_->fetch_add(1, std::memory_order_relaxed);
    else storage_->bump_version();
  }
  void start_own_version_counter() { version_counter_ = std::make_shared<std::atomic<uint32_t>>(0); }
  // What an alias (a view, detach(), `.data`) takes over from the tensor it aliases: its version
  // counter and whether it is an inference tensor.
  void inherit_alias_state(const TensorImpl& source) {
    version_counter_ = source.version_counter_;
    is_inference_ = source.is_inference_;
  }
  // Made while inference mode was on (core/inference_mode.h), or a view or detach() of such a tensor.
  bool is_inference() const { return is_inference_; }
  // Made by a view op: shares its data with `view_base()`, the tensor at the root of its chain of
  // views (never itself a view). In-place writes through a view rewrite the base's history, and a
  // view whose storage version moved since its grad_fn was derived (`view_version()`) derives it
  // again from the base's (see Tensor::grad_fn).
  bool is_view() const { return view_base_ != nullptr; }
  const std::shared_ptr<TensorImpl>& view_base() const { return view_base_; }
  // Atomic: ops record without the GIL, and a thread checks this before taking the lock under which
  // another may be deriving the view's grad_fn (see derive_view_grad_fn in autograd/inplace.h).
  uint32_t view_version() const { return view_version_.load(std::memory_order_acquire); }
  void set_view_version(uint32_t version) { view_version_.store(version, std::memory_order_release); }
  // Views made in no_grad mode (or of such views) may not take part in recorded in-place updates.
  bool view_created_in_no_grad() const { return view_created_in_no_grad_; }
  void set_view_base(std::shared_ptr<TensorImpl> base, bool created_in_no_grad);

  // Replaces what this tensor views (the `t.data = other` setter): the handle stays, the data moves.
  // The tensor is no longer a view afterwards.
  void set_layout(std::shared_ptr<Storage> storage, DimVector sizes, DimVector strides, int64_t storage_offset, DType dtype);

  AutogradMetaInterface* autograd_meta() const { return autograd_meta_.get(); }
  void set_autograd_meta(std::unique_ptr<AutogradMetaInterface> meta) { autograd_meta_ = std::move(meta); }

  // What the Python bindings keep of this tensor while no Python object stands for it (the
  // attributes its last one had), so that they come back with the next one. Opaque here, which
  // keeps the core free of Python; the deleter runs if the tensor dies holding it.
  using PythonState = std::unique_ptr<void, void (*)(void*)>;
  bool has_python_state() const { return python_state_ != nullptr; }
  void set_python_state(PythonState state) { python_state_ = std::move(state); }
  PythonState take_python_state() { return std::exchange(python_state_, PythonState(nullptr, nullptr)); }

 private:
  std::shared_ptr<Storage> storage_;
  DimVector sizes_;
  DimVector strides_;
  int64_t storage_offset_;
  int64_t numel_;
  DType dtype_;
  bool is_contiguous_;
  bool is_inference_;
  bool view_created_in_no_grad_ = false;
  std::shared_ptr<std::atomic<uint32_t>> version_counter_;  // null: the storage's
  std::atomic<uint32_t> view_version_{0};
  std::shared_ptr<TensorImpl> view_base_;
  std::unique_ptr<AutogradMetaInterface> autograd_meta_;
  PythonState python_state_{nullptr, nullptr};
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
  // Uninitialised memory shaped like `like` and laid out as PyTorch's preserve_format lays it out
  // (preserved_strides: a transposed tensor's copy is transposed too).
  static Tensor empty_like_layout(const Tensor& like, DType dtype, Device device, const char* op);

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
    TG_CHECK_TYPE(dtype_of<T>() == dtype(), "data_ptr", "tensor has dtype ", dtype_name(dtype()),
                  ", asked for ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(raw_data());
  }

  // Autograd, with PyTorch's names and meanings (defined in autograd/variable.cpp).
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  // A view whose base (or another view of it) was written in place since its grad_fn was derived
  // gets a new one here, from the base's history, as in PyTorch.
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
  // What `.data` gives (PyTorch's variable_data): same data, no history, and a version counter of
  // its own, starting at 0, so that writes through it do not invalidate what autograd saved.
  Tensor variable_data() const;
  // Drops this tensor's history; refused for views, whose history their base's must stay in step with.
  Tensor& detach_();
  // The `t.data = other` setter: this tensor now views other's data (dtype and shape included),
  // keeping its identity and autograd attributes.
  void set_data(const Tensor& data) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace tg
