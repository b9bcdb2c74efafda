#include "tapegrad/ops/activation.h"

#include <iterator>
#include <numbers>
#include <string>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/elementwise_internal.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

const char* op_name(bool log) { return log ? "log_softmax" : "softmax"; }

// The backward of softmax's backward: with grad_input = y * (g - s), s = sum(g * y):
//   d/dg = y * (u - sum(u * y)) = softmax_backward(u, y)   and   d/dy = u * (g - s) - sum(u * y) * g.
// For log_softmax's, grad_input = g - exp(y) * sum(g):
//   d/dg = u - sum(u * exp(y))   and   d/dy = -u * exp(y) * sum(g).
struct SoftmaxBackwardBackward final : Node {
  enum Slot { Grad, Output };
  int64_t dim;
  bool log;
  SoftmaxBackwardBackward(int64_t d, bool l) : dim(d), log(l) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& u = grads[0];
    const Tensor g = saved(Grad), y = saved(Output);
    Tensor grad_g, grad_y;
    if (log) {
      const Tensor exp_y = exp(y);
      if (needs_input_grad(0)) grad_g = sub(u, sum(mul(u, exp_y), {dim}, true));
      if (needs_input_grad(1)) grad_y = neg(mul(mul(u, exp_y), sum(g, {dim}, true)));
    } else {
      const Tensor u_dot_y = sum(mul(u, y), {dim}, true);
      if (needs_input_grad(0)) grad_g = mul(y, sub(u, u_dot_y));
      if (needs_input_grad(1)) grad_y = sub(mul(u, sub(g, sum(mul(g, y), {dim}, true))), mul(u_dot_y, g));
    }
    return {grad_g, grad_y};
  }
  std::string name() const override { return log ? "LogSoftmaxBackwardDataBackward0" : "SoftmaxBackwardDataBackward0"; }
};

Tensor backward_data(const Tensor& grad, const Tensor& output, int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  TG_CHECK(grad.sizes() == output.sizes(), op, "grad shape ", grad.sizes(), " differs from output shape ", output.sizes());
  dim = wrap_dim(dim, output.dim(), op);
  Tensor grad_input = Tensor::empty(output.sizes(), output.dtype(), output.device());
  if (output.numel() > 0) {
    NoGradGuard no_grad;
    kernels::backend(log ? "log_softmax_backward" : "softmax_backward", grad_input, grad, output)
        ->softmax_backward(grad_input, to_dtype(grad, output.dtype()), output, dim, log);
  }
  if (needs_grad(grad, output)) {
    auto node = make_node<SoftmaxBackwardBackward>(dim, log);
    node->save(SoftmaxBackwardBackward::Grad, grad);
    node->save(SoftmaxBackwardBackward::Output, output);
    node->connect({&grad, &output}, {&grad_input});
  }
  return grad_input;
}

struct SoftmaxBackward final : Node {
  enum Slot { Output };
  int64_t dim;
  bool log;
  SoftmaxBackward(int64_t d, bool l) : dim(d), log(l) {}
  TensorList apply(TensorList&& grads) override { return {backward_data(grads[0], saved(Output), dim, log)}; }
  std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
};

Tensor softmax_forward(const Tensor& self, int64_t dim, std::optional<DType> dtype, bool log) {
  const char* op = op_name(log);
  const Tensor input = dtype ? to_dtype(self, *dtype) : self;
  if (!is_floating(input.dtype()))
    fail<NotImplementedError>(op, "not implemented for dtype ", dtype_name(input.dtype()), ": it expects a floating-point tensor");
  dim = wrap_dim(dim, input.dim(), op);
  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device());
  if (input.numel() > 0) {
    NoGradGuard no_grad;
    kernels::backend(log ? "log_softmax" : "softmax", out, input)->softmax(out, input, dim, log);
  }
  if (needs_grad(input)) {
    auto node = make_node<SoftmaxBackward>(dim, log);
    node->connect({&input}, {&out});
    node->save(SoftmaxBackward::Output, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype) { return softmax_forward(self, dim, dtype, false); }
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype) { return softmax_forward(self, dim, dtype, true); }

Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim) { return backward_data(grad, output, dim, false); }
Tensor log_softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim) { return backward_data(grad, output, dim, true); }

// ---- activations: one row per kernels::Activation ------------------------------------------------
// As the unary table of elementwise.cpp, with the parameters: each row gives the op's name (for
// errors), its node's name, the name of its in-place form's node (PyTorch's Backward1 nodes save the
// result; ours save the overwritten input, which gives the same gradient) and the formula of the
// input's gradient from the output's, the input and the parameters, in tapegrad ops.

namespace {

using kernels::Activation;
using kernels::ActivationParams;

using GradientFormula = Tensor (*)(const Tensor& grad, const Tensor& x, const ActivationParams& params);

struct ActivationFormula {
  Activation kind;
  const char* name;
  const char* node_name;
  const char* inplace_node_name;
  GradientFormula backward;
};

// The piecewise-linear activations' gradients are linear in the upstream gradient and piecewise
// constant in x. Their backward records a node of its own (PyTorch's ...BackwardBackward0) that
// applies the same formula to its upstream gradient and gives x a zero gradient, so that a second
// derivative is zeros, as in PyTorch, not an error about a tensor without history.
struct LinearGradientBackward final : Node {
  enum Slot { Input };
  const char* node_name;
  GradientFormula formula;
  ActivationParams params;
  LinearGradientBackward(const char* name, GradientFormula f, const ActivationParams& p)
      : node_name(name), formula(f), params(p) {}
  TensorList apply(TensorList&& grads) override {
    return {needs_input_grad(0) ? formula(grads[0], saved(Input), params) : Tensor(),
            needs_input_grad(1) ? zeros_like(grads[0]) : Tensor()};
  }
  std::string name() const override { return node_name; }
};

Tensor linear_gradient(const char* node_name, GradientFormula formula, const Tensor& grad, const Tensor& x,
                       const ActivationParams& params) {
  Tensor result;
  {
    NoGradGuard no_grad;
    result = formula(grad, x, params);
  }
  if (needs_grad(grad, x)) {
    auto node = make_node<LinearGradientBackward>(node_name, formula, params);
    node->save(LinearGradientBackward::Input, x);
    node->connect({&grad, &x}, {&result});
  }
  return result;
}

Tensor leaky_relu_gradient(const Tensor& g, const Tensor& x, const ActivationParams& p) {
  return where(compare(Comparison::Gt, x, Scalar(0.0)), g, mul(g, Scalar(p.negative_slope)));
}

Tensor hardsigmoid_gradient(const Tensor& g, const Tensor& x, const ActivationParams&) {
  const Tensor inside = mul(compare(Comparison::Gt, x, Scalar(-3.0)), compare(Comparison::Lt, x, Scalar(3.0)));
  // PyTorch's kernel scales by the float 1/6 in every dtype; so do we, to agree in float64 too.
  return where(inside, mul(g, Scalar(static_cast<double>(1.0f / 6.0f))), Scalar(0.0));
}

Tensor hardtanh_gradient(const Tensor& g, const Tensor& x, const ActivationParams& bounds) {
  return where(compare(Comparison::Le, x, Scalar(bounds.min_val)), Scalar(0.0),
               where(compare(Comparison::Ge, x, Scalar(bounds.max_val)), Scalar(0.0), g));
}

// The gradient of elu's formula with the given constants (celu's are alpha, 1 and 1 / alpha).
Tensor elu_gradient(const Tensor& g, const Tensor& x, double alpha, double scale, double input_scale) {
  return where(compare(Comparison::Le, x, Scalar(0.0)), mul(g, mul(exp(mul(x, Scalar(input_scale))), Scalar(alpha * scale * input_scale))),
               mul(g, Scalar(scale)));
}

constexpr double kGeluBeta = std::numbers::sqrt2 * std::numbers::inv_sqrtpi, kGeluKappa = 0.044715;

constexpr ActivationFormula activation_formulas[] = {
    // x Phi(x): Phi(x) + x phi(x).
    {Activation::Gelu, "gelu", "GeluBackward0", "GeluBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) {
       const Tensor cdf = mul(add(erf(mul(x, Scalar(std::numbers::sqrt2 / 2))), Scalar(1.0)), Scalar(0.5));
       const Tensor pdf = mul(exp(mul(mul(x, x), Scalar(-0.5))), Scalar(std::numbers::inv_sqrtpi / std::numbers::sqrt2));
       return mul(g, add(cdf, mul(x, pdf)));
     }},
    // 0.5 x (1 + t), t = tanh(beta (x + kappa x^3)): 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2).
    {Activation::GeluTanh, "gelu", "GeluBackward0", "GeluBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) {
       const Tensor x_squared = mul(x, x);
       const Tensor t = tanh(mul(add(x, mul(mul(x_squared, x), Scalar(kGeluKappa))), Scalar(kGeluBeta)));
       const Tensor left = mul(add(t, Scalar(1.0)), Scalar(0.5));
       const Tensor right = mul(mul(mul(x, Scalar(0.5 * kGeluBeta)), rsub(mul(t, t), Scalar(1.0))),
                                add(mul(x_squared, Scalar(3 * kGeluKappa)), Scalar(1.0)));
       return mul(g, add(left, right));
     }},
    // x s, s = sigmoid(x): s (1 + x (1 - s)).
    {Activation::Silu, "silu", "SiluBackward0", "SiluBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) {
       const Tensor s = sigmoid(x);
       return mul(g, mul(s, add(mul(x, rsub(s, Scalar(1.0))), Scalar(1.0))));
     }},
    {Activation::LeakyRelu, "leaky_relu", "LeakyReluBackward0", "LeakyReluBackward1",
     [](const Tensor& g, const Tensor& x, const ActivationParams& p) {
       return linear_gradient("LeakyReluBackwardBackward0", leaky_relu_gradient, g, x, p);
     }},
    {Activation::Elu, "elu", "EluBackward0", "EluBackward1",
     [](const Tensor& g, const Tensor& x, const ActivationParams& p) {
       return elu_gradient(g, x, p.alpha, p.scale, p.input_scale);
     }},
    {Activation::Celu, "celu", "CeluBackward0", "CeluBackward1",
     [](const Tensor& g, const Tensor& x, const ActivationParams& p) { return elu_gradient(g, x, p.alpha, 1.0, 1.0 / p.alpha); }},
    {Activation::Softplus, "softplus", "SoftplusBackward0", "SoftplusBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams& p) {
       const Tensor scaled = mul(x, Scalar(p.beta));
       return where(compare(Comparison::Gt, scaled, Scalar(p.threshold)), g, mul(g, sigmoid(scaled)));
     }},
    // x t, t = tanh(log(1 + e^x)): t + x sigmoid(x) (1 - t^2).
    {Activation::Mish, "mish", "MishBackward0", "MishBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) {
       const Tensor t = tanh(log1p(exp(x)));
       return mul(g, add(t, mul(mul(x, sigmoid(x)), rsub(mul(t, t), Scalar(1.0)))));
     }},
    {Activation::LogSigmoid, "log_sigmoid", "LogSigmoidBackward0", "LogSigmoidBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) { return mul(g, sigmoid(neg(x))); }},
    {Activation::Hardsigmoid, "hardsigmoid", "HardsigmoidBackward0", "HardsigmoidBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams& p) {
       return linear_gradient("HardsigmoidBackwardBackward0", hardsigmoid_gradient, g, x, p);
     }},
    {Activation::Hardswish, "hardswish", "HardswishBackward0", "HardswishBackward0",
     [](const Tensor& g, const Tensor& x, const ActivationParams&) {
       return where(compare(Comparison::Le, x, Scalar(-3.0)), Scalar(0.0),
                    where(compare(Comparison::Lt, x, Scalar(3.0)), mul(g, add(div(x, Scalar(3.0)), Scalar(0.5))), g));
     }},
};

constexpr bool activation_rows_follow_enum() {
  for (size_t i = 0; i < std::size(activation_formulas); ++i)
    if (activation_formulas[i].kind != static_cast<Activation>(i)) return false;
  return true;
}
static_assert(std::size(activation_formulas) == static_cast<size_t>(Activation::Hardswish) + 1 &&
                  activation_rows_follow_enum(),
              "one row per Activation, in the enum's order");

struct ActivationBackward final : Node {
  enum Slot { Input };
  const ActivationFormula& formula;
  ActivationParams params;
  bool in_place;
  ActivationBackward(const ActivationFormula& row, const ActivationParams& p, bool inplace)
      : formula(row), params(p), in_place(inplace) {}
  TensorList apply(TensorList&& grads) override { return {formula.backward(grads[0], saved(Input), params)}; }
  std::string name() const override { return in_place ? formula.inplace_node_name : formula.node_name; }
};

void check_floating(const Tensor& input, const char* op) {
  if (!is_floating(input.dtype()))
    fail<NotImplementedError>(op, "not implemented for dtype ", dtype_name(input.dtype()), ": it expects a floating-point tensor");
}

Tensor activation_forward(Activation kind, const Tensor& input, const ActivationParams& params, bool in_place) {
  const ActivationFormula& formula = activation_formulas[static_cast<int>(kind)];
  check_floating(input, formula.name);
  TG_CHECK_VALUE(kind != Activation::Celu || params.alpha != 0.0, formula.name, "ZeroDivisionError: alpha must not be 0");
  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device(), formula.name);
  {
    NoGradGuard no_grad;
    kernels::backend(formula.name, out, input)->activation(kind, out, input, params);
  }
  if (needs_grad(input)) {
    auto node = make_node<ActivationBackward>(formula, params, in_place);
    node->save(ActivationBackward::Input, input);
    node->connect({&input}, {&out});
  }
  return out;
}

struct HardtanhBackward0 final : Node {
  enum Slot { Input };
  ActivationParams bounds;
  HardtanhBackward0(double min_val, double max_val) {
    bounds.min_val = min_val;
    bounds.max_val = max_val;
  }
  TensorList apply(TensorList&& grads) override {
    return {linear_gradient("HardtanhBackwardBackward0", hardtanh_gradient, grads[0], saved(Input), bounds)};
  }
  std::string name() const override { return "HardtanhBackward0"; }
};

struct GluBackward0 final : Node {
  enum Slot { Input };
  int64_t dim;
  explicit GluBackward0(int64_t d) : dim(d) {}
  // a sigmoid(b): the gradients sigmoid(b) and a sigmoid(b) (1 - sigmoid(b)), side by side along dim.
  TensorList apply(TensorList&& grads) override {
    const Tensor& g = grads[0];
    const Tensor x = saved(Input);
    const int64_t half = x.sizes()[dim] / 2;
    const Tensor a = narrow(x, dim, 0, half), s = sigmoid(narrow(x, dim, half, half));
    return {cat({mul(g, s), mul(mul(g, a), mul(s, rsub(s, Scalar(1.0))))}, dim)};
  }
  std::string name() const override { return "GluBackward0"; }
};

}  // namespace

Tensor activation(Activation kind, const Tensor& input, const ActivationParams& params) {
  return activation_forward(kind, input, params, false);
}

Tensor& activation_(Tensor& self, Activation kind, const ActivationParams& params) {
  const std::string op = std::string(activation_formulas[static_cast<int>(kind)].name) + "_";
  return detail::inplace(self, op.c_str(), self.dtype(), false,
                         [&](const Tensor& s) { return activation_forward(kind, s, params, true); });
}

Tensor hardtanh(const Tensor& input, Scalar min_val, Scalar max_val) {
  TG_CHECK_VALUE(min_val.to_double() <= max_val.to_double(), "hardtanh", "min_val cannot be greater than max_val (got ",
                 min_val.to_double(), " and ", max_val.to_double(), ")");
  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device(), "hardtanh");
  {
    NoGradGuard no_grad;
    kernels::backend("hardtanh", out, input)->clamp(out, input, min_val, max_val);
  }
  if (needs_grad(input)) {
    auto node = make_node<HardtanhBackward0>(min_val.to_double(), max_val.to_double());
    node->save(HardtanhBackward0::Input, input);
    node->connect({&input}, {&out});
  }
  return out;
}

Tensor& hardtanh_(Tensor& self, Scalar min_val, Scalar max_val) {
  return detail::inplace(self, "hardtanh_", self.dtype(), false, [&](const Tensor& s) { return hardtanh(s, min_val, max_val); });
}

Tensor glu(const Tensor& input, int64_t dim) {
  TG_CHECK(input.dim() > 0, "glu", "glu does not support scalars because halving size must be even");
  dim = wrap_dim(dim, input.dim(), "glu");
  const int64_t size = input.sizes()[dim];
  TG_CHECK(size % 2 == 0, "glu", "Halving dimension must be even, but dimension ", dim, " of input of shape ",
           input.sizes(), " is size ", size);
  check_floating(input, "glu");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = mul(narrow(input, dim, 0, size / 2), sigmoid(narrow(input, dim, size / 2, size / 2)));
  }
  if (needs_grad(input)) {
    auto node = make_node<GluBackward0>(dim);
    node->save(GluBackward0::Input, input);
    node->connect({&input}, {&out});
  }
  return out;
}

}  // namespace tg
