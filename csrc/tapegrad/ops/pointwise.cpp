#include "tapegrad/ops/pointwise.h"

#include <limits>

#include "tapegrad/autograd/node.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/elementwise_internal.h"

namespace tg {

namespace {

Tensor truth(const Tensor& tensor) { return compare(Comparison::Ne, tensor, Scalar(0)); }

struct NanToNumBackward0 final : Node {
  enum Slot { Input };
  explicit NanToNumBackward0(const Tensor& input) { save(Input, input); }
  TensorList apply(TensorList&& grads) override { return {mul(grads[0], isfinite(saved(Input)))}; }
  std::string name() const override { return "NanToNumBackward0"; }
};

// lerp: start's gradient is (1 - weight) times the output's, end's weight times it, and a tensor
// weight's (LerpBackward1) the difference end - start times it.
struct LerpBackward final : Node {
  enum Slot { Start, End, Weight };
  Scalar weight;
  bool tensor_weight;
  LerpBackward(Scalar w, bool tensor) : weight(w), tensor_weight(tensor) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    if (!tensor_weight)
      return {needs_input_grad(0) ? mul(grad, Scalar(1.0 - weight.to_double())) : Tensor(),
              needs_input_grad(1) ? mul(grad, weight) : Tensor()};
    const Tensor w = saved(Weight);
    return {needs_input_grad(0) ? mul(grad, rsub(w, Scalar(1))) : Tensor(),
            needs_input_grad(1) ? mul(grad, w) : Tensor(),
            needs_input_grad(2) ? mul(grad, sub(saved(End), saved(Start))) : Tensor()};
  }
  std::string name() const override { return tensor_weight ? "LerpBackward1" : "LerpBackward0"; }
};

// addcmul / addcdiv: self's gradient passes; the factors' follow the product or quotient rule.
struct AddcBackward final : Node {
  enum Slot { First, Second };
  Scalar value;
  bool divide;
  AddcBackward(Scalar v, bool d) : value(v), divide(d) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor a = saved(First), b = saved(Second);
    const Tensor scaled = mul(grad, value);
    if (!divide)
      return {grad, needs_input_grad(1) ? mul(scaled, b) : Tensor(), needs_input_grad(2) ? mul(scaled, a) : Tensor()};
    return {grad, needs_input_grad(1) ? div(scaled, b) : Tensor(),
            needs_input_grad(2) ? neg(div(mul(scaled, a), mul(b, b))) : Tensor()};
  }
  std::string name() const override { return divide ? "AddcdivBackward0" : "AddcmulBackward0"; }
};

void check_floating(const Tensor& tensor, const char* op) {
  TG_CHECK(is_floating(tensor.dtype()), op, "expected a floating tensor, got ", dtype_name(tensor.dtype()));
}

}  // namespace

Tensor isnan(const Tensor& self) {
  if (!is_floating(self.dtype())) return zeros(self.sizes(), DType::Bool, self.device());
  return compare(Comparison::Ne, self, self);
}

Tensor isinf(const Tensor& self) {
  if (!is_floating(self.dtype())) return zeros(self.sizes(), DType::Bool, self.device());
  return compare(Comparison::Eq, abs(self), Scalar(std::numeric_limits<double>::infinity()));
}

Tensor isfinite(const Tensor& self) {
  if (!is_floating(self.dtype())) return ones(self.sizes(), DType::Bool, self.device());
  // x - x is 0 for every finite x and NaN for NaN and the infinities.
  NoGradGuard no_grad;
  return compare(Comparison::Eq, sub(self, self), Scalar(0));
}

Tensor nan_to_num(const Tensor& self, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  if (!is_floating(self.dtype())) return clone(self);
  const bool single = self.dtype() == DType::Float32;
  const double largest = single ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor infinite = isinf(self);
    out = where(isnan(self), Scalar(nan.value_or(0.0)), self);
    out = where(logical_and(compare(Comparison::Gt, self, Scalar(0)), infinite), Scalar(posinf.value_or(largest)), out);
    out = where(logical_and(compare(Comparison::Lt, self, Scalar(0)), infinite), Scalar(neginf.value_or(-largest)), out);
  }
  if (needs_grad(self)) make_node<NanToNumBackward0>(self)->connect({&self}, {&out});
  return out;
}

Tensor logical_and(const Tensor& a, const Tensor& b) { return where(truth(a), truth(b), Scalar(false)); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return where(truth(a), Scalar(true), truth(b)); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return compare(Comparison::Ne, truth(a), truth(b)); }

Tensor lerp(const Tensor& start, const Tensor& end, Scalar weight) {
  check_floating(start, "lerp");
  TG_CHECK(start.dtype() == end.dtype(), "lerp", "expected dtype ", dtype_name(start.dtype()), " for `end` but got dtype ",
           dtype_name(end.dtype()));
  Tensor out;
  {
    NoGradGuard no_grad;
    const double w = weight.to_double();
    const Tensor difference = sub(end, start);
    out = w < 0.5 ? add(start, mul(difference, weight)) : sub(end, mul(difference, Scalar(1.0 - w)));
  }
  if (needs_grad(start, end)) make_node<LerpBackward>(weight, false)->connect({&start, &end}, {&out});
  return out;
}

Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight) {
  check_floating(start, "lerp");
  TG_CHECK(start.dtype() == end.dtype() && start.dtype() == weight.dtype(), "lerp", "expected start, end and weight of "
           "one dtype, got ", dtype_name(start.dtype()), ", ", dtype_name(end.dtype()), " and ", dtype_name(weight.dtype()));
  Tensor out;
  {
    NoGradGuard no_grad;
    const Tensor difference = sub(end, start);
    const Tensor near_start = compare(Comparison::Lt, abs(weight), Scalar(0.5));
    out = where(near_start, add(start, mul(weight, difference)), sub(end, mul(difference, rsub(weight, Scalar(1)))));
  }
  if (needs_grad(start, end, weight)) {
    auto node = make_node<LerpBackward>(Scalar(0), true);
    node->save(LerpBackward::Start, start);
    node->save(LerpBackward::End, end);
    node->save(LerpBackward::Weight, weight);
    node->connect({&start, &end, &weight}, {&out});
  }
  return out;
}

namespace {

Tensor addc(const Tensor& self, const Tensor& a, const Tensor& b, Scalar value, bool divide) {
  Tensor out;
  {
    NoGradGuard no_grad;
    out = add(self, mul(divide ? div(a, b) : mul(a, b), value));
  }
  if (needs_grad(self, a, b)) {
    auto node = make_node<AddcBackward>(value, divide);
    node->save(AddcBackward::First, a);
    node->save(AddcBackward::Second, b);
    node->connect({&self, &a, &b}, {&out});
  }
  return out;
}

}  // namespace

Tensor addcmul(const Tensor& self, const Tensor& a, const Tensor& b, Scalar value) {
  return addc(self, a, b, value, false);
}

Tensor addcdiv(const Tensor& self, const Tensor& a, const Tensor& b, Scalar value) {
  TG_CHECK(is_floating(a.dtype()) || is_floating(b.dtype()), "addcdiv", "integer division with addcdiv is no longer "
           "supported; use floating tensor1 or tensor2, got ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  return addc(self, a, b, value, true);
}

namespace {

// An operand that is self itself stands for self's old value (the copy inplace() computes from).
const Tensor& old_value(const Tensor& operand, const Tensor& self, const Tensor& old) {
  return operand.is_same(self) ? old : operand;
}

}  // namespace

Tensor& lerp_(Tensor& self, const Tensor& end, Scalar weight) {
  return detail::inplace(self, "lerp_", result_type(self, end), end.requires_grad(),
                         [&](const Tensor& old) { return lerp(old, old_value(end, self, old), weight); });
}

Tensor& lerp_(Tensor& self, const Tensor& end, const Tensor& weight) {
  return detail::inplace(self, "lerp_", result_type({&self, &end, &weight}), end.requires_grad() || weight.requires_grad(),
                         [&](const Tensor& old) {
                           return lerp(old, old_value(end, self, old), old_value(weight, self, old));
                         });
}

Tensor& addcmul_(Tensor& self, const Tensor& a, const Tensor& b, Scalar value) {
  return detail::inplace(self, "addcmul_", result_type({&self, &a, &b}), a.requires_grad() || b.requires_grad(),
                         [&](const Tensor& old) {
                           return addcmul(old, old_value(a, self, old), old_value(b, self, old), value);
                         });
}

Tensor& addcdiv_(Tensor& self, const Tensor& a, const Tensor& b, Scalar value) {
  return detail::inplace(self, "addcdiv_", result_type({&self, &a, &b}), a.requires_grad() || b.requires_grad(),
                         [&](const Tensor& old) {
                           return addcdiv(old, old_value(a, self, old), old_value(b, self, old), value);
                         });
}

}  // namespace tg
