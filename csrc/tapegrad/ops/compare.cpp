#include "tapegrad/ops/compare.h"

#include <limits>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/elementwise_internal.h"
#include "tapegrad/ops/reduce.h"

namespace tg {

using detail::binary_kernel;
using detail::inplace;
using detail::record_binary;
using detail::wrap;
using kernels::BinaryOp;

// ---- backward nodes --------------------------------------------------------------------------

namespace {

Tensor as_dtype_of(const Tensor& mask, const Tensor& like) { return to_dtype(mask, like.dtype()); }

// maximum/minimum: the gradient goes to the winner; on a tie each side gets half.
struct MaxMinBackward final : Node {
  enum Slot { A, B };
  bool is_max;
  explicit MaxMinBackward(bool max) : is_max(max) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor x = saved(A), y = saved(B);
    const Tensor tie = mul(as_dtype_of(compare(Comparison::Eq, x, y), grad), Scalar(0.5));
    const Comparison wins = is_max ? Comparison::Gt : Comparison::Lt;
    Tensor grad_a, grad_b;
    if (needs_input_grad(0)) grad_a = mul(grad, add(as_dtype_of(compare(wins, x, y), grad), tie));
    if (needs_input_grad(1)) grad_b = mul(grad, add(as_dtype_of(compare(wins, y, x), grad), tie));
    return {grad_a, grad_b};
  }
  std::string name() const override { return is_max ? "MaximumBackward0" : "MinimumBackward0"; }
};

struct WhereBackward0 final : Node {
  enum Slot { Condition };
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor c = saved(Condition);
    return {needs_input_grad(0) ? where(c, grad, Scalar(0)) : Tensor(),
            needs_input_grad(1) ? where(c, Scalar(0), grad) : Tensor()};
  }
  std::string name() const override { return "WhereBackward0"; }
};

// clamp (ClampBackward1), clamp_min (ClampMinBackward0) and clamp_max (ClampMaxBackward0).
struct ClampBackward final : Node {
  enum Slot { Input };
  std::optional<Scalar> min, max;
  const char* node_name;
  ClampBackward(std::optional<Scalar> lo, std::optional<Scalar> hi, const char* name)
      : min(lo), max(hi), node_name(name) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor x = saved(Input);
    Tensor pass;
    if (min) pass = compare(Comparison::Ge, x, *min);
    if (max) {
      const Tensor below = compare(Comparison::Le, x, *max);
      pass = pass.defined() ? mul(pass, below) : below;
    }
    return {pass.defined() ? where(pass, grads[0], Scalar(0)) : grads[0]};
  }
  std::string name() const override { return node_name; }
};

// clamp with tensor bounds: the input's gradient flows where min <= x <= max; a bound gets the
// gradient where it is the result (PyTorch's rule: where x < min < max for min, and where
// x > max or max < min for max).
struct ClampBackward0 final : Node {
  enum Slot { Input, Min, Max };
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor x = saved(Input), low = saved(Min), high = saved(Max);
    Tensor grad_x, grad_low, grad_high;
    if (needs_input_grad(0)) {
      Tensor pass = low.defined() ? compare(Comparison::Ge, x, low) : Tensor();
      if (high.defined()) {
        const Tensor below = compare(Comparison::Le, x, high);
        pass = pass.defined() ? mul(pass, below) : below;  // and
      }
      grad_x = where(pass, grad, Scalar(0));
    }
    if (needs_input_grad(1)) {
      Tensor chosen = compare(Comparison::Lt, x, low);
      if (high.defined()) chosen = mul(chosen, compare(Comparison::Lt, low, high));  // and
      grad_low = where(chosen, grad, Scalar(0));
    }
    if (needs_input_grad(2)) {
      Tensor chosen = compare(Comparison::Gt, x, high);
      if (low.defined()) chosen = maximum(chosen, compare(Comparison::Lt, high, low));  // or
      grad_high = where(chosen, grad, Scalar(0));
    }
    return {grad_x, grad_low, grad_high};
  }
  std::string name() const override { return "ClampBackward0"; }
};

}  // namespace

// ---- maximum, minimum, comparisons -------------------------------------------------------------

namespace {
Tensor maximum_minimum(const Tensor& a, const Tensor& b, bool is_max) {
  const DType dtype = result_type(a, b);
  Tensor out = binary_kernel(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, a, b, dtype, dtype);
  if (needs_grad(a, b)) {
    auto node = make_node<MaxMinBackward>(is_max);
    node->save(MaxMinBackward::A, a);
    node->save(MaxMinBackward::B, b);
    record_binary(node, a, b, out);
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return maximum_minimum(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return maximum_minimum(a, b, false); }

Tensor compare(Comparison op, const Tensor& a, const Tensor& b) {
  const auto kernel_op = static_cast<BinaryOp>(static_cast<int>(BinaryOp::Eq) + static_cast<int>(op));
  return binary_kernel(kernel_op, a, b, result_type(a, b), DType::Bool);
}

Tensor compare(Comparison op, const Tensor& a, Scalar b) {
  const DType dtype = result_type(a, b);
  return compare(op, to_dtype(a, dtype), wrap(b, dtype, a));
}

// ---- closeness ---------------------------------------------------------------------------------
// Booleans combine with mul (and) and maximum (or).

Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  TG_CHECK(a.dtype() == b.dtype(), "isclose", "expected both inputs to have the same dtype, got ", dtype_name(a.dtype()),
           " and ", dtype_name(b.dtype()));
  TG_CHECK(rtol >= 0 && atol >= 0, "isclose", "rtol and atol must be greater than or equal to zero, got rtol=", rtol,
           " and atol=", atol);
  NoGradGuard no_grad;
  Tensor close = compare(Comparison::Eq, a, b);
  if (a.dtype() == DType::Bool) return close;
  // Integers are compared in the default float dtype, as PyTorch does.
  const Tensor x = is_floating(a.dtype()) ? a : to_dtype(a, default_dtype());
  const Tensor y = is_floating(b.dtype()) ? b : to_dtype(b, default_dtype());
  if (equal_nan) close = maximum(close, mul(compare(Comparison::Ne, x, x), compare(Comparison::Ne, y, y)));
  // An infinite difference is never within tolerance (equal infinities were caught as equal).
  const Tensor difference = abs(sub(x, y));
  const Tensor allowed = add(mul(abs(y), Scalar(rtol)), Scalar(atol));
  const Tensor within = mul(compare(Comparison::Le, difference, allowed),
                            compare(Comparison::Ne, difference, Scalar(std::numeric_limits<double>::infinity())));
  return maximum(close, within);
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  NoGradGuard no_grad;
  return all(isclose(a, b, rtol, atol, equal_nan)).data_ptr<bool>()[0];
}

bool equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  NoGradGuard no_grad;
  return all(compare(Comparison::Eq, a, b)).data_ptr<bool>()[0];
}

// ---- where -------------------------------------------------------------------------------------

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  TG_CHECK(condition.dtype() == DType::Bool, "where", "condition must be a bool tensor, got ",
           dtype_name(condition.dtype()));
  const DType dtype = result_type(a, b);
  const DimVector shape = broadcast_shapes(condition.sizes(), broadcast_shapes(a.sizes(), b.sizes(), "where"), "where");
  Tensor out = Tensor::empty(shape, dtype, a.device(), "where");
  {
    NoGradGuard no_grad;
    kernels::backend("where", out, condition, a, b)->where(out, condition, to_dtype(a, dtype), to_dtype(b, dtype));
  }
  if (needs_grad(a, b)) {
    auto node = make_node<WhereBackward0>();
    node->save(WhereBackward0::Condition, condition);
    record_binary(node, a, b, out);
  }
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, Scalar b) {
  const DType dtype = result_type(a, b);
  b.check_fits(dtype, "where");
  return where(condition, a, wrap(b, dtype, a));
}

Tensor where(const Tensor& condition, Scalar a, const Tensor& b) {
  const DType dtype = result_type(b, a);
  a.check_fits(dtype, "where");
  return where(condition, wrap(a, dtype, b), b);
}

Tensor where(const Tensor& condition, Scalar a, Scalar b) {
  const DType dtype = promote_types(a.default_dtype_for(), b.default_dtype_for());
  return where(condition, wrap(a, dtype, condition), wrap(b, dtype, condition));
}

// ---- clamp -------------------------------------------------------------------------------------

namespace {
Tensor clamp_impl(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max, const char* node_name) {
  TG_CHECK(min || max, "clamp", "at least one of 'min' or 'max' must not be None");
  DType dtype = a.dtype();
  if (min) dtype = result_type(a, *min);
  if (max) dtype = promote_types(dtype, result_type(a, *max));
  if (min) min->check_fits(dtype, "clamp");
  if (max) max->check_fits(dtype, "clamp");
  Tensor out = Tensor::empty(a.sizes(), dtype, a.device(), "clamp");
  {
    NoGradGuard no_grad;
    kernels::backend("clamp", out, a)->clamp(out, to_dtype(a, dtype), min, max);
  }
  if (needs_grad(a)) {
    auto node = make_node<ClampBackward>(min, max, node_name);
    node->save(ClampBackward::Input, a);
    node->connect({&a}, {&out});
  }
  return out;
}
}  // namespace

Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  return clamp_impl(a, min, max, "ClampBackward1");
}
Tensor clamp_min(const Tensor& a, Scalar min) { return clamp_impl(a, min, std::nullopt, "ClampMinBackward0"); }
Tensor clamp_max(const Tensor& a, Scalar max) { return clamp_impl(a, std::nullopt, max, "ClampMaxBackward0"); }

Tensor clamp(const Tensor& a, const Tensor& min, const Tensor& max) {
  TG_CHECK(min.defined() || max.defined(), "clamp", "at least one of 'min' or 'max' must not be None");
  const DType dtype = result_type({&a, &min, &max});
  DimVector shape = a.sizes();
  for (const Tensor* bound : {&min, &max})
    if (bound->defined()) shape = broadcast_shapes(shape, bound->sizes(), "clamp");
  Tensor out = Tensor::empty(shape, dtype, a.device(), "clamp");
  {
    // max(a, min), then min(that, max): both propagate NaN, so a NaN bound gives NaN as in PyTorch.
    NoGradGuard no_grad;
    const Tensor input = to_dtype(a, dtype);
    if (min.defined())
      kernels::backend("clamp", out, input, min)->binary(BinaryOp::Maximum, out, input, to_dtype(min, dtype));
    if (max.defined())
      kernels::backend("clamp", out, input, max)
          ->binary(BinaryOp::Minimum, out, min.defined() ? out : input, to_dtype(max, dtype));
  }
  if (any_needs_grad({a, min, max}) && is_floating(dtype)) {
    auto node = make_node<ClampBackward0>();
    node->save(ClampBackward0::Input, a);
    node->save(ClampBackward0::Min, min);
    node->save(ClampBackward0::Max, max);
    node->connect({&a, &min, &max}, {&out});
  }
  return out;
}

// ---- in place ----------------------------------------------------------------------------------

Tensor& clamp_(Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max) {
  return inplace(self, "clamp_", self.dtype(), false, [&](const Tensor& s) { return clamp(s, min, max); });
}
Tensor& clamp_(Tensor& self, const Tensor& min, const Tensor& max) {
  const bool bounds_require_grad = (min.defined() && min.requires_grad()) || (max.defined() && max.requires_grad());
  return inplace(self, "clamp_", result_type({&self, &min, &max}), bounds_require_grad,
                 [&](const Tensor& s) { return clamp(s, min, max); });
}

}  // namespace tg
