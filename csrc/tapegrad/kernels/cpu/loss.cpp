// CPU kernels of the fused losses: each loss is one pass over contiguous memory forward and one
// backward, in PyTorch's order of floating-point operations. Sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "tapegrad/kernels/cpu/backend.h"

namespace tg::cpu {

namespace {

// Optional operands (weights) and outputs (gradients not needed) are undefined tensors.
template <typename T>
T* data_or_null(const Tensor& tensor) { return tensor.defined() ? tensor.data_ptr<T>() : nullptr; }

// ---- pointwise losses ------------------------------------------------------------------------

// Calls f with the loss kind as a compile-time constant, so each loop is specialised for it.
template <typename F>
decltype(auto) dispatch_pointwise(PointwiseLoss kind, F&& f) {
  switch (kind) {
    case PointwiseLoss::MSE: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::MSE>{});
    case PointwiseLoss::L1: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::L1>{});
    case PointwiseLoss::BCE: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::BCE>{});
    case PointwiseLoss::SmoothL1: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::SmoothL1>{});
    case PointwiseLoss::Huber: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::Huber>{});
    case PointwiseLoss::BCEWithLogits: break;
  }
  return f(std::integral_constant<PointwiseLoss, PointwiseLoss::BCEWithLogits>{});
}

template <typename T>
T log_sigmoid(T x) { return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x))); }

template <typename T>
T sign_of(T x) { return static_cast<T>((T(0) < x) - (x < T(0))); }

// One element's loss before the weight, in PyTorch's order of operations. `pos_weight` is null
// when absent (so that the default path is exactly PyTorch's, not the weighted one with 1);
// `parameter` is SmoothL1's beta or Huber's delta.
template <PointwiseLoss kind, typename T>
T loss_term(T x, T y, const T* pos_weight, T parameter) {
  if constexpr (kind == PointwiseLoss::MSE) {
    const T difference = x - y;
    return difference * difference;
  } else if constexpr (kind == PointwiseLoss::L1) {
    return std::abs(x - y);
  } else if constexpr (kind == PointwiseLoss::BCE) {
    return (y - T(1)) * std::max(T(std::log1p(-x)), T(-100)) - y * std::max(T(std::log(x)), T(-100));
  } else if constexpr (kind == PointwiseLoss::SmoothL1) {
    const T z = std::abs(x - y);
    return z < parameter ? T(0.5) * z * z / parameter : z - T(0.5) * parameter;
  } else if constexpr (kind == PointwiseLoss::Huber) {
    const T z = std::abs(x - y);
    return z < parameter ? T(0.5) * z * z : parameter * (z - T(0.5) * parameter);
  } else {
    T log_sig = log_sigmoid(x);
    if (pos_weight) log_sig *= (*pos_weight - T(1)) * y + T(1);
    return (T(1) - y) * x - log_sig;
  }
}

// d loss_term / d x and d loss_term / d y.
template <PointwiseLoss kind, typename T>
T grad_input_term(T x, T y, const T* pos_weight, T parameter) {
  if constexpr (kind == PointwiseLoss::MSE) return T(2) * (x - y);
  else if constexpr (kind == PointwiseLoss::L1) return sign_of(x - y);
  else if constexpr (kind == PointwiseLoss::BCE) return (x - y) / std::max((T(1) - x) * x, T(1e-12));
  else if constexpr (kind == PointwiseLoss::SmoothL1) {
    const T d = x - y;
    return d < -parameter ? T(-1) : d > parameter ? T(1) : d / parameter;
  } else if constexpr (kind == PointwiseLoss::Huber) {
    const T d = x - y;
    return d < -parameter ? -parameter : d > parameter ? parameter : d;
  } else {
    const T sigmoid = T(1) / (T(1) + std::exp(-x));
    if (!pos_weight) return sigmoid - y;
    const T weighted_target = *pos_weight * y;
    return (weighted_target + T(1) - y) * sigmoid - weighted_target;
  }
}

template <PointwiseLoss kind, typename T>
T grad_target_term(T x, T y, const T* pos_weight, T parameter) {
  if constexpr (kind == PointwiseLoss::MSE) return T(-2) * (x - y);
  else if constexpr (kind == PointwiseLoss::L1) return -sign_of(x - y);
  else if constexpr (kind == PointwiseLoss::SmoothL1 || kind == PointwiseLoss::Huber)
    return -grad_input_term<kind>(x, y, pos_weight, parameter);
  else if constexpr (kind == PointwiseLoss::BCE) return std::max(T(std::log1p(-x)), T(-100)) - std::max(T(std::log(x)), T(-100));
  else return pos_weight ? log_sigmoid(-x) - log_sigmoid(x) * *pos_weight : -x;
}

// A class-index target, checked: an IndexError naming `op` unless it is a class or ignore_index.
int64_t class_of(const int64_t* targets, int64_t row, const ClassTarget& spec, const char* op) {
  const int64_t k = targets[row];
  TG_CHECK_INDEX(k == spec.ignore_index || (k >= 0 && k < spec.layout.classes), op, "target ", k,
                 " is out of bounds for ", spec.layout.classes, " classes");
  return k;
}

}  // namespace

double CpuBackend::pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                                  const Tensor& weight, const Tensor& pos_weight, double parameter) {
  const char* op = kernels::loss_name(kind);
  const int64_t count = input.numel();
  double total = 0.0;
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_pointwise(kind, [&](auto constant) {
      constexpr PointwiseLoss K = decltype(constant)::value;
      const T *xs = input.data_ptr<T>(), *ys = target.data_ptr<T>();
      const T *ws = data_or_null<T>(weight), *pws = data_or_null<T>(pos_weight);
      T* values = data_or_null<T>(out);
      for (int64_t i = 0; i < count; ++i) {
        if constexpr (K == PointwiseLoss::BCE) {
          TG_CHECK(xs[i] >= T(0) && xs[i] <= T(1), op, "all elements of input should be between 0 and 1, got ",
                   xs[i], " at flat index ", i);
          TG_CHECK(ys[i] >= T(0) && ys[i] <= T(1), op, "all elements of target should be between 0 and 1, got ",
                   ys[i], " at flat index ", i);
        }
        T value = loss_term<K>(xs[i], ys[i], pws ? pws + i : nullptr, static_cast<T>(parameter));
        if (ws) value *= ws[i];
        if (values) values[i] = value;
        else total += value;
      }
    });
  });
  return total;
}

void CpuBackend::pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target,
                                         const Tensor& grad, UpstreamScale scale, const Tensor& input,
                                         const Tensor& target, const Tensor& weight, const Tensor& pos_weight,
                                         double parameter) {
  dispatch_floating(input.dtype(), kernels::loss_name(kind), [&](auto tag) {
    using T = typename decltype(tag)::type;
    dispatch_pointwise(kind, [&](auto constant) {
      constexpr PointwiseLoss K = decltype(constant)::value;
      const T *xs = input.data_ptr<T>(), *ys = target.data_ptr<T>();
      const T *ws = data_or_null<T>(weight), *pws = data_or_null<T>(pos_weight), *g = grad.data_ptr<T>();
      T* gx = data_or_null<T>(grad_input);
      T* gy = data_or_null<T>(grad_target);
      for (int64_t i = 0, n = input.numel(); i < n; ++i) {
        const T upstream = scale.at(g, i) * (ws ? ws[i] : T(1));
        const T* pos = pws ? pws + i : nullptr;
        if (gx) gx[i] = grad_input_term<K>(xs[i], ys[i], pos, static_cast<T>(parameter)) * upstream;
        if (gy) gy[i] = grad_target_term<K>(xs[i], ys[i], pos, static_cast<T>(parameter)) * upstream;
      }
    });
  });
}

// ---- classification losses -------------------------------------------------------------------

ClassLossTotals CpuBackend::cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input,
                                          const Tensor& target, const Tensor& weight, const ClassTarget& spec) {
  const char* op = "cross_entropy";
  const bool probabilities = is_floating(target.dtype());
  const kernels::ClassLayout& layout = spec.layout;
  const double label_smoothing = spec.label_smoothing;
  ClassLossTotals totals;
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xs = input.data_ptr<T>(), *ws = data_or_null<T>(weight);
    T *lses = log_sum_exp.data_ptr<T>(), *values = data_or_null<T>(out);
    const int64_t classes = layout.classes, stride = layout.inner;
    const double uniform = label_smoothing / static_cast<double>(classes);
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t base = layout.offset(row);
      double max = -INFINITY;
      for (int64_t c = 0; c < classes; ++c) max = std::max(max, static_cast<double>(xs[base + c * stride]));
      double sum_exp = 0.0;
      for (int64_t c = 0; c < classes; ++c) sum_exp += std::exp(static_cast<double>(xs[base + c * stride]) - max);
      // An all -inf row has no finite maximum to shift by; its log-sum-exp is -inf.
      const double row_log_sum_exp = std::isinf(max) ? max : max + std::log(sum_exp);
      lses[row] = static_cast<T>(row_log_sum_exp);
      double loss = 0.0;
      if (probabilities) {
        const T* ys = target.data_ptr<T>();
        for (int64_t c = 0; c < classes; ++c) {
          const int64_t at = base + c * stride;
          loss += (ws ? ws[c] : 1.0) * (ys[at] * (1.0 - label_smoothing) + uniform) * (row_log_sum_exp - xs[at]);
        }
        totals.denominator += 1.0;
      } else {
        const int64_t k = class_of(target.data_ptr<int64_t>(), row, spec, op);
        if (k != spec.ignore_index) {
          const double w_k = ws ? ws[k] : 1.0;
          loss = (1.0 - label_smoothing) * w_k * (row_log_sum_exp - xs[base + k * stride]);
          if (label_smoothing > 0.0) {
            double smooth = 0.0;
            for (int64_t c = 0; c < classes; ++c) smooth += (ws ? ws[c] : 1.0) * (row_log_sum_exp - xs[base + c * stride]);
            loss += uniform * smooth;
          }
          totals.denominator += w_k;
        }
      }
      if (values) values[row] = static_cast<T>(loss);
      totals.total += loss;
    }
  });
  return totals;
}

// d/dx_c = s * (softmax_c * sum_k(w_k q_k) - w_c q_c) with q the smoothed target distribution:
// one pass per row over the saved logits and their log-sum-exp.
void CpuBackend::cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                                        UpstreamScale scale, const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& log_sum_exp, const ClassTarget& spec) {
  const bool probabilities = is_floating(target.dtype());
  const kernels::ClassLayout& layout = spec.layout;
  const double smoothing = spec.label_smoothing;
  dispatch_floating(input.dtype(), "cross_entropy", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xs = input.data_ptr<T>(), *ws = data_or_null<T>(weight), *lses = log_sum_exp.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* gx = data_or_null<T>(grad_input);
    T* gy = data_or_null<T>(grad_target);
    const int64_t classes = layout.classes, stride = layout.inner;
    const double uniform = smoothing / static_cast<double>(classes);
    double weight_total = 0.0;
    for (int64_t c = 0; c < classes; ++c) weight_total += ws ? ws[c] : 1.0;
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t base = layout.offset(row);
      const double s = scale.at(g, row);
      if (!probabilities) {
        if (!gx) break;  // class indices take no gradient: nothing else to compute
        const int64_t k = target.data_ptr<int64_t>()[row];
        if (k == spec.ignore_index) {
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
      const T* ys = target.data_ptr<T>();
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
}

ClassLossTotals CpuBackend::nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                                     const ClassTarget& spec) {
  const char* op = "nll_loss";
  const kernels::ClassLayout& layout = spec.layout;
  ClassLossTotals totals;
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *xs = input.data_ptr<T>(), *ws = data_or_null<T>(weight);
    const int64_t* ks = target.data_ptr<int64_t>();
    T* values = data_or_null<T>(out);
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t k = class_of(ks, row, spec, op);
      T loss = T(0);
      if (k != spec.ignore_index) {
        const T w_k = ws ? ws[k] : T(1);
        loss = -w_k * xs[layout.offset(row) + k * layout.inner];
        totals.denominator += w_k;
      }
      if (values) values[row] = loss;
      totals.total += loss;
    }
  });
  return totals;
}

void CpuBackend::nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale,
                                   const Tensor& target, const Tensor& weight, const ClassTarget& spec) {
  const kernels::ClassLayout& layout = spec.layout;
  dispatch_floating(grad_input.dtype(), "nll_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *ws = data_or_null<T>(weight), *g = grad.data_ptr<T>();
    const int64_t* ks = target.data_ptr<int64_t>();
    T* gx = grad_input.data_ptr<T>();
    for (int64_t row = 0; row < layout.rows(); ++row) {
      const int64_t k = ks[row];
      if (k != spec.ignore_index) gx[layout.offset(row) + k * layout.inner] = -scale.at(g, row) * (ws ? ws[k] : T(1));
    }
  });
}

}  // namespace tg::cpu
