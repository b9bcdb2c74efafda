#include "tapegrad/ops/loss.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/view.h"

namespace tg {

Reduction reduction_from_string(std::string_view name, const char* op) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  fail<ValueError>("[", op, "] '", name, "' is not a valid value for reduction (expected 'none', 'mean' or 'sum')");
}

namespace {

// The backward of a fused loss is a kernel, not a composition of differentiable ops, so a
// second derivative through it would silently come out as zero: refuse create_graph instead.
void refuse_double_backward(const Node& node) {
  if (GradMode::is_enabled())
    fail<NotImplementedError>("[", node.name(), "] double backward (create_graph=True) through a fused loss is not "
                              "implemented; compose the loss from elementary ops to differentiate it twice");
}

// A contiguous tensor of `shape` and `dtype` holding `tensor`'s values, without history: the
// loss records its own node on the original inputs.
Tensor prepare(const Tensor& tensor, DType dtype, const DimVector& shape) {
  if (!tensor.defined()) return tensor;
  NoGradGuard no_grad;
  kernels::require_cpu("loss", tensor);
  Tensor converted = to_dtype(tensor, dtype);
  if (converted.sizes() != shape) converted = expand(converted, shape);
  return contiguous(converted);
}

template <typename T>
const T* data_or_null(const Tensor& tensor) { return tensor.defined() ? tensor.data_ptr<T>() : nullptr; }

// The reduced loss (mean divides by `denominator`) as a 0-dim tensor, or `per_element` as it is.
Tensor finish(Reduction reduction, const Tensor& per_element, double total, double denominator, DType dtype) {
  if (reduction == Reduction::None) return per_element;
  const double value = reduction == Reduction::Sum ? total : total / denominator;
  return scalar_tensor(Scalar(value), dtype);
}

// The upstream gradient of one element of the unreduced loss.
struct UpstreamScale {
  Reduction reduction;
  double denominator;
  template <typename T>
  T at(const T* grad, int64_t index) const {
    if (reduction == Reduction::None) return grad[index];
    return reduction == Reduction::Sum ? grad[0] : static_cast<T>(grad[0] / denominator);
  }
};

// ---- pointwise losses ------------------------------------------------------------------------

enum class Pointwise { MSE, L1, BCE, BCEWithLogits };

const char* op_name(Pointwise kind) {
  static const char* const names[] = {"mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"};
  return names[static_cast<int>(kind)];
}

template <typename F>
decltype(auto) dispatch_pointwise(Pointwise kind, F&& f) {
  switch (kind) {
    case Pointwise::MSE: return f(std::integral_constant<Pointwise, Pointwise::MSE>{});
    case Pointwise::L1: return f(std::integral_constant<Pointwise, Pointwise::L1>{});
    case Pointwise::BCE: return f(std::integral_constant<Pointwise, Pointwise::BCE>{});
    case Pointwise::BCEWithLogits: break;
  }
  return f(std::integral_constant<Pointwise, Pointwise::BCEWithLogits>{});
}

template <typename T>
T log_sigmoid(T x) { return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x))); }

template <typename T>
T sign_of(T x) { return static_cast<T>((T(0) < x) - (x < T(0))); }

// One element's loss before the weight, in PyTorch's order of operations. `pos_weight` is null
// when absent (so that the default path is exactly PyTorch's, not the weighted one with 1).
template <Pointwise kind, typename T>
T loss_term(T x, T y, const T* pos_weight) {
  if constexpr (kind == Pointwise::MSE) {
    const T difference = x - y;
    return difference * difference;
  } else if constexpr (kind == Pointwise::L1) {
    return std::abs(x - y);
  } else if constexpr (kind == Pointwise::BCE) {
    return (y - T(1)) * std::max(T(std::log1p(-x)), T(-100)) - y * std::max(T(std::log(x)), T(-100));
  } else {
    T log_sig = log_sigmoid(x);
    if (pos_weight) log_sig *= (*pos_weight - T(1)) * y + T(1);
    return (T(1) - y) * x - log_sig;
  }
}

// d loss_term / d x and d loss_term / d y.
template <Pointwise kind, typename T>
T grad_input_term(T x, T y, const T* pos_weight) {
  if constexpr (kind == Pointwise::MSE) return T(2) * (x - y);
  else if constexpr (kind == Pointwise::L1) return sign_of(x - y);
  else if constexpr (kind == Pointwise::BCE) return (x - y) / std::max((T(1) - x) * x, T(1e-12));
  else {
    const T sigmoid = T(1) / (T(1) + std::exp(-x));
    if (!pos_weight) return sigmoid - y;
    const T weighted_target = *pos_weight * y;
    return (weighted_target + T(1) - y) * sigmoid - weighted_target;
  }
}

template <Pointwise kind, typename T>
T grad_target_term(T x, T y, const T* pos_weight) {
  if constexpr (kind == Pointwise::MSE) return T(-2) * (x - y);
  else if constexpr (kind == Pointwise::L1) return -sign_of(x - y);
  else if constexpr (kind == Pointwise::BCE) return std::max(T(std::log1p(-x)), T(-100)) - std::max(T(std::log(x)), T(-100));
  else return pos_weight ? log_sigmoid(-x) - log_sigmoid(x) * *pos_weight : -x;
}

struct PointwiseLossBackward final : Node {
  Pointwise kind;
  UpstreamScale scale;
  SavedTensor input, target, weight, pos_weight;
  PointwiseLossBackward(Pointwise k, UpstreamScale s) : kind(k), scale(s) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor x = input.unpack(*this), y = target.unpack(*this);
    const Tensor w = weight.defined() ? weight.unpack(*this) : Tensor();
    const Tensor pw = pos_weight.defined() ? pos_weight.unpack(*this) : Tensor();
    const Tensor grad = contiguous(grads[0]);
    Tensor grad_input = needs_input_grad(0) ? empty_like(x) : Tensor();
    Tensor grad_target = needs_input_grad(1) ? empty_like(x) : Tensor();
    dispatch_floating(x.dtype(), op_name(kind), [&](auto tag) {
      using T = typename decltype(tag)::type;
      dispatch_pointwise(kind, [&](auto constant) {
        constexpr Pointwise K = decltype(constant)::value;
        const T *xs = x.data_ptr<T>(), *ys = y.data_ptr<T>(), *ws = data_or_null<T>(w), *pws = data_or_null<T>(pw);
        const T* g = grad.data_ptr<T>();
        T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;
        T* gy = grad_target.defined() ? grad_target.data_ptr<T>() : nullptr;
        for (int64_t i = 0, n = x.numel(); i < n; ++i) {
          const T upstream = scale.at(g, i) * (ws ? ws[i] : T(1));
          const T* pos = pws ? pws + i : nullptr;
          if (gx) gx[i] = grad_input_term<K>(xs[i], ys[i], pos) * upstream;
          if (gy) gy[i] = grad_target_term<K>(xs[i], ys[i], pos) * upstream;
        }
      });
    });
    return {grad_input, grad_target};
  }
  void release_saved() override { input.reset(); target.reset(); weight.reset(); pos_weight.reset(); }
  std::string name() const override {
    static const char* const names[] = {"MseLossBackward0", "L1LossBackward0", "BinaryCrossEntropyBackward0",
                                        "BinaryCrossEntropyWithLogitsBackward0"};
    return names[static_cast<int>(kind)];
  }
};

Tensor pointwise_loss(Pointwise kind, const Tensor& input, const Tensor& target, const Tensor& weight,
                      const Tensor& pos_weight, Reduction reduction) {
  const char* op = op_name(kind);
  TG_CHECK_TYPE(is_floating(input.dtype()), "[", op, "] expects a floating-point input, got ", dtype_name(input.dtype()));
  DimVector shape = input.sizes();
  if (kind == Pointwise::MSE || kind == Pointwise::L1) {
    shape = broadcast_shapes(input.sizes(), target.sizes(), op);
  } else {
    TG_CHECK_VALUE(target.sizes() == input.sizes(), "[", op, "] target size ", target.sizes(),
                   " must be the same as input size ", input.sizes());
  }
  for (const Tensor* extra : {&weight, &pos_weight}) {
    if (!extra->defined()) continue;
    TG_CHECK(broadcast_shapes(extra->sizes(), shape, op) == shape, "[", op, "] weight of shape ", extra->sizes(),
             " does not broadcast to the input's shape ", shape);
  }
  const DType dtype = is_floating(target.dtype()) ? promote_types(input.dtype(), target.dtype()) : input.dtype();
  const Tensor x = prepare(input, dtype, shape), y = prepare(target, dtype, shape);
  const Tensor w = prepare(weight, dtype, shape), pw = prepare(pos_weight, dtype, shape);
  const int64_t count = x.numel();
  Tensor per_element = reduction == Reduction::None ? empty(shape, dtype) : Tensor();
  double total = 0.0;
  dispatch_floating(dtype, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_pointwise(kind, [&](auto constant) {
      constexpr Pointwise K = decltype(constant)::value;
      const T *xs = x.data_ptr<T>(), *ys = y.data_ptr<T>(), *ws = data_or_null<T>(w), *pws = data_or_null<T>(pw);
      T* out = per_element.defined() ? per_element.data_ptr<T>() : nullptr;
      for (int64_t i = 0; i < count; ++i) {
        if constexpr (K == Pointwise::BCE) {
          TG_CHECK(xs[i] >= T(0) && xs[i] <= T(1), "[", op, "] all elements of input should be between 0 and 1, got ",
                   xs[i], " at flat index ", i);
          TG_CHECK(ys[i] >= T(0) && ys[i] <= T(1), "[", op, "] all elements of target should be between 0 and 1, got ",
                   ys[i], " at flat index ", i);
        }
        T value = loss_term<K>(xs[i], ys[i], pws ? pws + i : nullptr);
        if (ws) value *= ws[i];
        if (out) out[i] = value;
        else total += value;
      }
    });
  });
  Tensor out = finish(reduction, per_element, total, static_cast<double>(count), dtype);
  if (needs_grad(input, target)) {
    auto node = make_node<PointwiseLossBackward>(kind, UpstreamScale{reduction, static_cast<double>(count)});
    node->input = SavedTensor(x);
    node->target = SavedTensor(y);
    if (w.defined()) node->weight = SavedTensor(w);
    if (pw.defined()) node->pos_weight = SavedTensor(pw);
    node->connect({&input, &target}, {&out});
  }
  return out;
}

// ---- classification losses -------------------------------------------------------------------

// The input seen as (batch, classes, inner): (C) is one row, (N, C) has inner 1, and the trailing
// dims of (N, C, d1, ...) are inner positions, each a row of its own strided by `inner`.
struct ClassLayout {
  int64_t batch = 1, classes = 0, inner = 1;
  int64_t rows() const { return batch * inner; }
  int64_t offset(int64_t row) const { return (row / inner) * classes * inner + row % inner; }
};

ClassLayout class_layout(const Tensor& input, const Tensor& target, const Tensor& weight, bool probabilities, const char* op) {
  TG_CHECK_TYPE(is_floating(input.dtype()), "[", op, "] expects a floating-point input, got ", dtype_name(input.dtype()));
  TG_CHECK(input.dim() >= 1, "[", op, "] input must have a class dim, got a 0-dim tensor");
  ClassLayout layout;
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  layout.classes = input.sizes()[class_dim];
  if (class_dim == 1) layout.batch = input.sizes()[0];
  for (int64_t d = 2; d < input.dim(); ++d) layout.inner *= input.sizes()[d];
  DimVector expected = input.sizes();
  if (!probabilities) expected.erase(static_cast<size_t>(class_dim));
  TG_CHECK(target.sizes() == expected, "[", op, "] input of shape ", input.sizes(), " needs a target of shape ",
           expected, ", got ", target.sizes());
  if (weight.defined())
    TG_CHECK(weight.dim() == 1 && weight.numel() == layout.classes, "[", op,
             "] weight should be a 1-D tensor with one entry per class (", layout.classes, "), got shape ", weight.sizes());
  return layout;
}

// Class-index targets as contiguous int64, each checked to be a class or ignore_index.
Tensor checked_targets(const Tensor& target, const ClassLayout& layout, int64_t ignore_index, const char* op) {
  TG_CHECK_TYPE(target.dtype() == DType::Int64 || target.dtype() == DType::Int32, "[", op,
                "] expects class-index targets of dtype int64 (or floating-point class probabilities), got ",
                dtype_name(target.dtype()));
  const Tensor indices = prepare(target, DType::Int64, target.sizes());
  const int64_t* data = indices.data_ptr<int64_t>();
  for (int64_t i = 0; i < indices.numel(); ++i)
    TG_CHECK_INDEX(data[i] == ignore_index || (data[i] >= 0 && data[i] < layout.classes), "[", op, "] target ",
                   data[i], " is out of bounds for ", layout.classes, " classes");
  return indices;
}

// The loss shape for reduction='none': the input's shape without the class dim.
DimVector row_shape(const Tensor& input) {
  DimVector shape = input.sizes();
  shape.erase(input.dim() == 1 ? 0 : 1);
  return shape;
}

struct CrossEntropyLossBackward final : Node {
  ClassLayout layout;
  UpstreamScale scale;
  int64_t ignore_index;
  double smoothing;
  bool probabilities;
  SavedTensor input, target, weight, log_sum_exp;
  CrossEntropyLossBackward(ClassLayout l, UpstreamScale s, int64_t ignore, double eps, bool probs)
      : layout(l), scale(s), ignore_index(ignore), smoothing(eps), probabilities(probs) {}

  // d/dx_c = s * (softmax_c * sum_k(w_k q_k) - w_c q_c) with q the smoothed target distribution:
  // one pass per row over the saved logits and their log-sum-exp.
  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor x = input.unpack(*this), t = target.unpack(*this), lse = log_sum_exp.unpack(*this);
    const Tensor w = weight.defined() ? weight.unpack(*this) : Tensor();
    const Tensor grad = contiguous(grads[0]);
    Tensor grad_input = needs_input_grad(0) ? empty_like(x) : Tensor();
    Tensor grad_target = probabilities && needs_input_grad(1) ? empty_like(x) : Tensor();
    dispatch_floating(x.dtype(), "cross_entropy", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T *xs = x.data_ptr<T>(), *ws = data_or_null<T>(w), *lses = lse.data_ptr<T>(), *g = grad.data_ptr<T>();
      T* gx = grad_input.defined() ? grad_input.data_ptr<T>() : nullptr;
      T* gy = grad_target.defined() ? grad_target.data_ptr<T>() : nullptr;
      const int64_t classes = layout.classes, stride = layout.inner;
      const double uniform = smoothing / static_cast<double>(classes);
      double weight_total = 0.0;
      for (int64_t c = 0; c < classes; ++c) weight_total += ws ? ws[c] : 1.0;
      for (int64_t row = 0; row < layout.rows(); ++row) {
        const int64_t base = layout.offset(row);
        const double s = scale.at(g, row);
        if (!probabilities) {
          if (!gx) break;  // class indices take no gradient: nothing else to compute
          const int64_t k = t.data_ptr<int64_t>()[row];
          if (k == ignore_index) {
            for (int64_t c = 0; c < classes; ++c) gx[base + c * stride] = T(0);
            continue;
          }
          const double w_k = ws ? ws[k] : 1.0;
          const double total_weight = (1.0 - smoothing) * w_k + uniform * weight_total;
          for (int64_t c = 0; c < classes; ++c) {
            const double p = std::exp(static_cast<double>(xs[base + c * stride]) - lses[row]);
            double value = p * total_weight - uniform * (ws ? ws[c] : 1.0);
            if (c == k) value -= (1.0 - smoothing) * w_k;
            gx[base + c * stride] = static_cast<T>(s * value);
          }
          continue;
        }
        const T* ys = t.data_ptr<T>();
        double total_weight = 0.0;
        for (int64_t c = 0; c < classes; ++c)
          total_weight += (ws ? ws[c] : 1.0) * (ys[base + c * stride] * (1.0 - smoothing) + uniform);
        for (int64_t c = 0; c < classes; ++c) {
          const int64_t at = base + c * stride;
          const double w_c = ws ? ws[c] : 1.0;
          const double log_p = static_cast<double>(xs[at]) - lses[row];
          if (gx) gx[at] = static_cast<T>(s * (std::exp(log_p) * total_weight - w_c * (ys[at] * (1.0 - smoothing) + uniform)));
          if (gy) gy[at] = static_cast<T>(-s * w_c * log_p * (1.0 - smoothing));
        }
      }
    });
    return {grad_input, grad_target};
  }
  void release_saved() override { input.reset(); target.reset(); weight.reset(); log_sum_exp.reset(); }
  std::string name() const override { return "CrossEntropyLossBackward0"; }
};

struct NllLossBackward final : Node {
  ClassLayout layout;
  UpstreamScale scale;
  int64_t ignore_index;
  SavedTensor target, weight;
  DimVector input_sizes;
  DType dtype;
  NllLossBackward(ClassLayout l, UpstreamScale s, int64_t ignore, DimVector sizes, DType d)
      : layout(l), scale(s), ignore_index(ignore), input_sizes(std::move(sizes)), dtype(d) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor t = target.unpack(*this), w = weight.defined() ? weight.unpack(*this) : Tensor();
    const Tensor grad = contiguous(grads[0]);
    Tensor grad_input = zeros(input_sizes, dtype);
    dispatch_floating(dtype, "nll_loss", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T *ws = data_or_null<T>(w), *g = grad.data_ptr<T>();
      const int64_t* ks = t.data_ptr<int64_t>();
      T* gx = grad_input.data_ptr<T>();
      for (int64_t row = 0; row < layout.rows(); ++row) {
        const int64_t k = ks[row];
        if (k != ignore_index) gx[layout.offset(row) + k * layout.inner] = -scale.at(g, row) * (ws ? ws[k] : T(1));
      }
    });
    return {grad_input};
  }
  void release_saved() override { target.reset(); weight.reset(); }
  std::string name() const override { return "NllLossBackward0"; }
};

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(Pointwise::MSE, input, target, Tensor(), Tensor(), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(Pointwise::L1, input, target, Tensor(), Tensor(), reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  return pointwise_loss(Pointwise::BCE, input, target, weight, Tensor(), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  return pointwise_loss(Pointwise::BCEWithLogits, input, target, weight, pos_weight, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  const char* op = "cross_entropy";
  TG_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "[", op,
           "] label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  const bool probabilities = is_floating(target.dtype());
  const ClassLayout layout = class_layout(input, target, weight, probabilities, op);
  const DType dtype = input.dtype();
  const Tensor x = prepare(input, dtype, input.sizes()), w = prepare(weight, dtype, weight.defined() ? weight.sizes() : DimVector{});
  const Tensor t = probabilities ? prepare(target, dtype, target.sizes()) : checked_targets(target, layout, ignore_index, op);
  Tensor lse = empty({layout.rows()}, dtype);
  Tensor per_row = reduction == Reduction::None ? empty(row_shape(input), dtype) : Tensor();
  double total = 0.0, denominator = 0.0;
  dispatch_floating(dtype, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xs = x.data_ptr<T>(), *ws = data_or_null<T>(w);
    T *lses = lse.data_ptr<T>(), *out = per_row.defined() ? per_row.data_ptr<T>() : nullptr;
    const int64_t classes = layout.classes, stride = layout.inner;
    const double uniform = label_smoothing / static_cast<double>(classes);
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t base = layout.offset(row);
      double max = -INFINITY;
      for (int64_t c = 0; c < classes; ++c) max = std::max(max, static_cast<double>(xs[base + c * stride]));
      double sum_exp = 0.0;
      for (int64_t c = 0; c < classes; ++c) sum_exp += std::exp(static_cast<double>(xs[base + c * stride]) - max);
      // An all -inf row has no finite maximum to shift by; its log-sum-exp is -inf.
      const double log_sum_exp = std::isinf(max) ? max : max + std::log(sum_exp);
      lses[row] = static_cast<T>(log_sum_exp);
      double loss = 0.0;
      if (probabilities) {
        const T* ys = t.data_ptr<T>();
        for (int64_t c = 0; c < classes; ++c) {
          const int64_t at = base + c * stride;
          loss += (ws ? ws[c] : 1.0) * (ys[at] * (1.0 - label_smoothing) + uniform) * (log_sum_exp - xs[at]);
        }
        denominator += 1.0;
      } else {
        const int64_t k = t.data_ptr<int64_t>()[row];
        if (k != ignore_index) {
          const double w_k = ws ? ws[k] : 1.0;
          loss = (1.0 - label_smoothing) * w_k * (log_sum_exp - xs[base + k * stride]);
          if (label_smoothing > 0.0) {
            double smooth = 0.0;
            for (int64_t c = 0; c < classes; ++c) smooth += (ws ? ws[c] : 1.0) * (log_sum_exp - xs[base + c * stride]);
            loss += uniform * smooth;
          }
          denominator += w_k;
        }
      }
      if (out) out[row] = static_cast<T>(loss);
      total += loss;
    }
  });
  Tensor result = finish(reduction, per_row, total, denominator, dtype);
  if (needs_grad(input, target)) {
    auto node = make_node<CrossEntropyLossBackward>(layout, UpstreamScale{reduction, denominator}, ignore_index,
                                                    label_smoothing, probabilities);
    node->input = SavedTensor(x);
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    node->log_sum_exp = SavedTensor(lse);
    node->connect({&input, &target}, {&result});
  }
  return result;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction, int64_t ignore_index) {
  const char* op = "nll_loss";
  const ClassLayout layout = class_layout(input, target, weight, /*probabilities=*/false, op);
  const DType dtype = input.dtype();
  const Tensor x = prepare(input, dtype, input.sizes()), w = prepare(weight, dtype, weight.defined() ? weight.sizes() : DimVector{});
  const Tensor t = checked_targets(target, layout, ignore_index, op);
  Tensor per_row = reduction == Reduction::None ? empty(row_shape(input), dtype) : Tensor();
  double total = 0.0, denominator = 0.0;
  dispatch_floating(dtype, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xs = x.data_ptr<T>(), *ws = data_or_null<T>(w);
    const int64_t* ks = t.data_ptr<int64_t>();
    T* out = per_row.defined() ? per_row.data_ptr<T>() : nullptr;
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t k = ks[row];
      T loss = T(0);
      if (k != ignore_index) {
        const T w_k = ws ? ws[k] : T(1);
        loss = -w_k * xs[layout.offset(row) + k * layout.inner];
        denominator += w_k;
      }
      if (out) out[row] = loss;
      total += loss;
    }
  });
  Tensor result = finish(reduction, per_row, total, denominator, dtype);
  if (needs_grad(input)) {
    auto node = make_node<NllLossBackward>(layout, UpstreamScale{reduction, denominator}, ignore_index, input.sizes(), dtype);
    node->target = SavedTensor(t);
    if (w.defined()) node->weight = SavedTensor(w);
    node->connect({&input}, {&result});
  }
  return result;
}

}  // namespace tg
