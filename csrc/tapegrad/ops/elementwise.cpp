#include "tapegrad/ops/elementwise.h"

#include <cmath>
#include <iterator>
#include <numbers>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise_internal.h"
#include "tapegrad/ops/reduce.h"

namespace tg {

using detail::binary_kernel;
using detail::inplace;
using detail::record_binary;
using detail::wrap;
using kernels::BinaryOp;
using kernels::UnaryOp;

// ---- type promotion --------------------------------------------------------------------------

namespace {

int category(DType dtype) { return dtype == DType::Bool ? 0 : is_floating(dtype) ? 2 : 1; }

// PyTorch's rule: tensors with dims decide; a 0-dim tensor or a Python number changes the result
// only when it is of a higher category (bool < integer < floating).
DType promote_with_lower_priority(DType decided, DType other) {
  return category(other) > category(decided) ? promote_types(decided, other) : decided;
}

const char* binary_name(BinaryOp op) {
  static const char* const names[] = {"add",     "sub",     "mul", "div", "floor_divide", "div", "remainder",
                                      "pow",     "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"};
  static_assert(std::size(names) == static_cast<size_t>(BinaryOp::Ge) + 1, "one name per BinaryOp, in order");
  return names[static_cast<int>(op)];
}

}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  if ((a.dim() == 0) == (b.dim() == 0)) return promote_types(a.dtype(), b.dtype());
  return a.dim() > 0 ? promote_with_lower_priority(a.dtype(), b.dtype())
                     : promote_with_lower_priority(b.dtype(), a.dtype());
}

DType result_type(std::initializer_list<const Tensor*> tensors) {
  std::optional<DType> dimensioned, zero_dim;
  for (const Tensor* tensor : tensors) {
    if (!tensor->defined()) continue;
    std::optional<DType>& slot = tensor->dim() > 0 ? dimensioned : zero_dim;
    slot = slot ? promote_types(*slot, tensor->dtype()) : tensor->dtype();
  }
  if (!dimensioned || !zero_dim) return dimensioned ? *dimensioned : zero_dim.value();
  return promote_with_lower_priority(*dimensioned, *zero_dim);
}

DType result_type(const Tensor& a, Scalar b) {
  // A float number with an integer tensor gives the default float dtype, not float64.
  return promote_with_lower_priority(a.dtype(), b.default_dtype_for());
}

// ---- backward nodes --------------------------------------------------------------------------

namespace {

// ---- the binary arithmetic family: one row per formula ------------------------------------------
// Each row gives the node's name, when the forward saves each operand (the gradient in a of a * b
// is b, so b is kept only when a's gradient is wanted) and the formula: the operands' gradients
// from the output's, reading the saved operands through the node only where a gradient needs them.

enum class BinaryFormulaKind { Add, Sub, Mul, Div, Remainder, RoundedDiv, FloorDivide };
enum class SavedWhen { Never, Always, ANeedsGrad, BNeedsGrad };

struct BinaryBackward;

struct BinaryFormula {
  BinaryFormulaKind kind;
  const char* node_name;
  SavedWhen save_a, save_b;
  TensorList (*backward)(BinaryBackward& node, const Tensor& grad);
};

struct BinaryBackward final : Node {
  enum Slot { A, B };
  const BinaryFormula& formula;
  std::optional<Scalar> alpha;  // add and sub: b's scale, set only when it is not 1
  BinaryBackward(const BinaryFormula& row, std::optional<Scalar> scale) : formula(row), alpha(scale) {}
  TensorList apply(TensorList&& grads) override { return formula.backward(*this, grads[0]); }
  std::string name() const override { return formula.node_name; }
};

constexpr BinaryFormula binary_formulas[] = {
    {BinaryFormulaKind::Add, "AddBackward0", SavedWhen::Never, SavedWhen::Never,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       return {grad, node.alpha ? mul(grad, *node.alpha) : grad};
     }},
    {BinaryFormulaKind::Sub, "SubBackward0", SavedWhen::Never, SavedWhen::Never,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       if (!node.needs_input_grad(1)) return {grad, Tensor()};
       return {grad, node.alpha ? mul(grad, Scalar(-node.alpha->to_double())) : neg(grad)};
     }},
    {BinaryFormulaKind::Mul, "MulBackward0", SavedWhen::BNeedsGrad, SavedWhen::ANeedsGrad,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       return {node.needs_input_grad(0) ? mul(grad, node.saved(BinaryBackward::B)) : Tensor(),
               node.needs_input_grad(1) ? mul(grad, node.saved(BinaryBackward::A)) : Tensor()};
     }},
    {BinaryFormulaKind::Div, "DivBackward0", SavedWhen::Always, SavedWhen::Always,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       const Tensor denominator = node.saved(BinaryBackward::B);
       Tensor grad_a, grad_b;
       if (node.needs_input_grad(0)) grad_a = div(grad, denominator);
       if (node.needs_input_grad(1))
         grad_b = neg(div(mul(grad, node.saved(BinaryBackward::A)), mul(denominator, denominator)));
       return {grad_a, grad_b};
     }},
    // remainder: a - floor(a / b) * b, so d/da = 1 and d/db = -floor(a / b).
    {BinaryFormulaKind::Remainder, "RemainderBackward0", SavedWhen::BNeedsGrad, SavedWhen::BNeedsGrad,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       if (!node.needs_input_grad(1)) return {grad, Tensor()};
       return {grad, neg(mul(grad, floor_divide(node.saved(BinaryBackward::A), node.saved(BinaryBackward::B))))};
     }},
    // div with a rounding mode is piecewise constant: zero gradients (PyTorch's DivBackward2).
    {BinaryFormulaKind::RoundedDiv, "DivBackward2", SavedWhen::Never, SavedWhen::Never,
     [](BinaryBackward& node, const Tensor& grad) -> TensorList {
       return {node.needs_input_grad(0) ? zeros_like(grad) : Tensor(),
               node.needs_input_grad(1) ? zeros_like(grad) : Tensor()};
     }},
    // floor_divide's output requires grad but has no derivative, as in PyTorch: backward through it
    // raises.
    {BinaryFormulaKind::FloorDivide, "NotImplemented", SavedWhen::Never, SavedWhen::Never,
     [](BinaryBackward&, const Tensor&) -> TensorList {
       fail<Error>("floor_divide", "the derivative for floor_divide is not implemented");
     }},
};

constexpr bool binary_rows_follow_enum() {
  for (size_t i = 0; i < std::size(binary_formulas); ++i)
    if (binary_formulas[i].kind != static_cast<BinaryFormulaKind>(i)) return false;
  return true;
}
static_assert(std::size(binary_formulas) == static_cast<size_t>(BinaryFormulaKind::FloorDivide) + 1 &&
                  binary_rows_follow_enum(),
              "one row per BinaryFormulaKind, in the enum's order");

bool saved_when(SavedWhen when, const Tensor& a, const Tensor& b) {
  return when == SavedWhen::Always || (when == SavedWhen::ANeedsGrad && a.requires_grad()) ||
         (when == SavedWhen::BNeedsGrad && b.requires_grad());
}

// Records the row's node for out = op(a, b), saving what its formula will read.
void record_binary_formula(BinaryFormulaKind kind, const Tensor& a, const Tensor& b, Tensor& out,
                           std::optional<Scalar> alpha = std::nullopt) {
  const BinaryFormula& formula = binary_formulas[static_cast<int>(kind)];
  auto node = make_node<BinaryBackward>(formula, alpha);
  if (saved_when(formula.save_a, a, b)) node->save(BinaryBackward::A, a);
  if (saved_when(formula.save_b, a, b)) node->save(BinaryBackward::B, b);
  record_binary(node, a, b, out);
}

// pow's three forms each carry their own exponent, base or special cases: small structs.
struct PowBackward1 final : Node {  // tensor ** tensor
  enum Slot { Base, Exponent, Result };
  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    const Tensor x = saved(Base), y = saved(Exponent);
    Tensor grad_base, grad_exponent;
    // An exponent of 0 has derivative 0 in the base everywhere, even at x == 0 where x^-1 is inf.
    if (needs_input_grad(0))
      grad_base = where(compare(Comparison::Eq, y, Scalar(0)), Scalar(0.0), mul(grad, mul(y, pow(x, sub(y, Scalar(1))))));
    if (needs_input_grad(1)) {
      // d/dy x^y = x^y log x, taken as 0 where x == 0 and y >= 0 (PyTorch's convention).
      const Tensor out = saved(Result);
      const Tensor zero_base = mul(compare(Comparison::Eq, x, Scalar(0)), compare(Comparison::Ge, y, Scalar(0)));
      grad_exponent = mul(grad, where(zero_base, Scalar(0.0), mul(out, log(x))));
    }
    return {grad_base, grad_exponent};
  }
  std::string name() const override { return "PowBackward1"; }
};

struct PowBackward0 final : Node {  // tensor ** number
  enum Slot { Base };
  Scalar exponent;
  explicit PowBackward0(Scalar e) : exponent(e) {}
  TensorList apply(TensorList&& grads) override {
    if (exponent.to_double() == 0.0) return {zeros_like(grads[0])};  // even at 0, where x^-1 is inf
    const Tensor x = saved(Base);
    return {mul(grads[0], mul(pow(x, Scalar(exponent.to_double() - 1.0)), exponent))};
  }
  std::string name() const override { return "PowBackward0"; }
};

struct PowBackward2 final : Node {  // number ** tensor
  enum Slot { Result, Exponent };  // the exponent only for a base of 0
  double log_base;
  explicit PowBackward2(double lb) : log_base(lb) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor grad = mul(grads[0], mul(saved(Result), log_base));
    const Tensor exponent = saved(Exponent);
    if (!exponent.defined()) return {grad};
    // 0^y: log 0 = -inf, so y^0 log 0 is nan where y > 0; PyTorch takes the derivative as 0 where y >= 0.
    return {where(compare(Comparison::Ge, exponent, Scalar(0)), Scalar(0.0), grad)};
  }
  std::string name() const override { return "PowBackward2"; }
};

// ---- the unary family: one row per UnaryOp ---------------------------------------------------
// As PyTorch's derivatives.yaml: each row gives the op's name, its result dtype, what its forward
// saves for backward, the node's name, and the formula mapping the output's gradient and that saved
// tensor to the input's gradient. unary() and UnaryBackward read nothing else.

enum class UnaryResult { Same, Floating, Bool };  // input's dtype; floating (integers promote); bool
enum class Saves { Nothing, Input, Result };

struct UnaryFormula {
  UnaryOp op;
  const char* name;
  UnaryResult result;
  Saves saves;
  const char* node_name;
  Tensor (*backward)(const Tensor& grad, const Tensor& saved);  // null: no derivative, not recorded
};

constexpr UnaryFormula unary_formulas[] = {
    {UnaryOp::Neg, "neg", UnaryResult::Same, Saves::Nothing, "NegBackward0",
     [](const Tensor& g, const Tensor&) { return neg(g); }},
    {UnaryOp::Exp, "exp", UnaryResult::Floating, Saves::Result, "ExpBackward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, y); }},
    {UnaryOp::Log, "log", UnaryResult::Floating, Saves::Input, "LogBackward0",
     [](const Tensor& g, const Tensor& x) { return div(g, x); }},
    {UnaryOp::Sqrt, "sqrt", UnaryResult::Floating, Saves::Result, "SqrtBackward0",
     [](const Tensor& g, const Tensor& y) { return div(g, mul(y, Scalar(2))); }},
    {UnaryOp::Rsqrt, "rsqrt", UnaryResult::Floating, Saves::Result, "RsqrtBackward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, mul(pow(y, Scalar(3)), Scalar(-0.5))); }},
    {UnaryOp::Abs, "abs", UnaryResult::Same, Saves::Input, "AbsBackward0",
     [](const Tensor& g, const Tensor& x) { return mul(g, sign(x)); }},
    {UnaryOp::Sign, "sign", UnaryResult::Same, Saves::Nothing, "SignBackward0",
     [](const Tensor& g, const Tensor&) { return zeros_like(g); }},
    {UnaryOp::Sin, "sin", UnaryResult::Floating, Saves::Input, "SinBackward0",
     [](const Tensor& g, const Tensor& x) { return mul(g, cos(x)); }},
    {UnaryOp::Cos, "cos", UnaryResult::Floating, Saves::Input, "CosBackward0",
     [](const Tensor& g, const Tensor& x) { return neg(mul(g, sin(x))); }},
    {UnaryOp::Tanh, "tanh", UnaryResult::Floating, Saves::Result, "TanhBackward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, rsub(mul(y, y), Scalar(1))); }},
    {UnaryOp::Sigmoid, "sigmoid", UnaryResult::Floating, Saves::Result, "SigmoidBackward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, mul(y, rsub(y, Scalar(1)))); }},
    {UnaryOp::Relu, "relu", UnaryResult::Same, Saves::Result, "ReluBackward0",
     [](const Tensor& g, const Tensor& y) { return threshold_backward(g, y); }},
    {UnaryOp::LogicalNot, "logical_not", UnaryResult::Bool, Saves::Nothing, "LogicalNotBackward0", nullptr},
    {UnaryOp::Atan, "atan", UnaryResult::Floating, Saves::Input, "AtanBackward0",
     [](const Tensor& g, const Tensor& x) { return div(g, add(mul(x, x), Scalar(1))); }},
    {UnaryOp::Asin, "asin", UnaryResult::Floating, Saves::Input, "AsinBackward0",
     [](const Tensor& g, const Tensor& x) { return mul(g, rsqrt(rsub(mul(x, x), Scalar(1)))); }},
    {UnaryOp::Acos, "acos", UnaryResult::Floating, Saves::Input, "AcosBackward0",
     [](const Tensor& g, const Tensor& x) { return neg(mul(g, rsqrt(rsub(mul(x, x), Scalar(1))))); }},
    {UnaryOp::Tan, "tan", UnaryResult::Floating, Saves::Result, "TanBackward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, add(mul(y, y), Scalar(1))); }},
    {UnaryOp::Sinh, "sinh", UnaryResult::Floating, Saves::Input, "SinhBackward0",
     [](const Tensor& g, const Tensor& x) { return mul(g, cosh(x)); }},
    {UnaryOp::Cosh, "cosh", UnaryResult::Floating, Saves::Input, "CoshBackward0",
     [](const Tensor& g, const Tensor& x) { return mul(g, sinh(x)); }},
    {UnaryOp::Log1p, "log1p", UnaryResult::Floating, Saves::Input, "Log1PBackward0",
     [](const Tensor& g, const Tensor& x) { return div(g, add(x, Scalar(1))); }},
    {UnaryOp::Expm1, "expm1", UnaryResult::Floating, Saves::Result, "Expm1Backward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, add(y, Scalar(1))); }},
    {UnaryOp::Log2, "log2", UnaryResult::Floating, Saves::Input, "Log2Backward0",
     [](const Tensor& g, const Tensor& x) { return div(g, mul(x, Scalar(std::numbers::ln2))); }},
    {UnaryOp::Log10, "log10", UnaryResult::Floating, Saves::Input, "Log10Backward0",
     [](const Tensor& g, const Tensor& x) { return div(g, mul(x, Scalar(std::numbers::ln10))); }},
    {UnaryOp::Exp2, "exp2", UnaryResult::Floating, Saves::Result, "Exp2Backward0",
     [](const Tensor& g, const Tensor& y) { return mul(g, mul(y, Scalar(std::numbers::ln2))); }},
    {UnaryOp::Erf, "erf", UnaryResult::Floating, Saves::Input, "ErfBackward0",
     [](const Tensor& g, const Tensor& x) {
       return mul(g, mul(exp(neg(mul(x, x))), Scalar(2 * std::numbers::inv_sqrtpi)));
     }},
    {UnaryOp::Floor, "floor", UnaryResult::Same, Saves::Nothing, "FloorBackward0",
     [](const Tensor& g, const Tensor&) { return zeros_like(g); }},
    {UnaryOp::Ceil, "ceil", UnaryResult::Same, Saves::Nothing, "CeilBackward0",
     [](const Tensor& g, const Tensor&) { return zeros_like(g); }},
    {UnaryOp::Round, "round", UnaryResult::Same, Saves::Nothing, "RoundBackward0",
     [](const Tensor& g, const Tensor&) { return zeros_like(g); }},
    {UnaryOp::Trunc, "trunc", UnaryResult::Same, Saves::Nothing, "TruncBackward0",
     [](const Tensor& g, const Tensor&) { return zeros_like(g); }},
    {UnaryOp::Frac, "frac", UnaryResult::Same, Saves::Nothing, "FracBackward0",
     [](const Tensor& g, const Tensor&) { return g; }},
    {UnaryOp::Reciprocal, "reciprocal", UnaryResult::Floating, Saves::Result, "ReciprocalBackward0",
     [](const Tensor& g, const Tensor& y) { return neg(mul(g, mul(y, y))); }},
};

constexpr bool rows_follow_enum() {
  for (size_t i = 0; i < std::size(unary_formulas); ++i)
    if (unary_formulas[i].op != static_cast<UnaryOp>(i)) return false;
  return true;
}
static_assert(std::size(unary_formulas) == static_cast<size_t>(UnaryOp::Reciprocal) + 1 && rows_follow_enum(),
              "one row per UnaryOp, in the enum's order");

const UnaryFormula& formula_of(UnaryOp op) { return unary_formulas[static_cast<int>(op)]; }

struct UnaryBackward final : Node {
  const UnaryFormula& formula;
  explicit UnaryBackward(const UnaryFormula& row) : formula(row) {}
  TensorList apply(TensorList&& grads) override { return {formula.backward(grads[0], saved(0))}; }
  std::string name() const override { return formula.node_name; }
};

// relu's gradient is piecewise constant in relu's output: zero derivative there, as in PyTorch (so
// that a second derivative of relu is zeros, not an error).
struct ThresholdBackwardBackward0 final : Node {
  enum Slot { Output };
  TensorList apply(TensorList&& grads) override {
    return {needs_input_grad(0) ? threshold_backward(grads[0], saved(Output)) : Tensor(),
            needs_input_grad(1) ? zeros_like(grads[0]) : Tensor()};
  }
  std::string name() const override { return "ThresholdBackwardBackward0"; }
};

}  // namespace

// ---- forward helpers -------------------------------------------------------------------------

namespace detail {

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, DType compute, DType out_dtype) {
  TG_CHECK(a.device() == b.device(), binary_name(op), "expected both tensors on the same device, got ",
           a.device().str(), " and ", b.device().str());
  const DimVector shape = a.sizes() == b.sizes() ? a.sizes() : broadcast_shapes(a.sizes(), b.sizes(), binary_name(op));
  Tensor out = Tensor::empty(shape, out_dtype, a.device(), binary_name(op));
  NoGradGuard no_grad;  // the conversions are part of this op, not separate graph nodes
  kernels::backend(binary_name(op), out, a, b)->binary(op, out, to_dtype(a, compute), to_dtype(b, compute));
  return out;
}

}  // namespace detail

namespace {

DType floating_result(DType dtype) { return is_floating(dtype) ? dtype : default_dtype(); }

// alpha as PyTorch checks it against the result dtype; nullopt when it is 1 (nothing to scale).
std::optional<Scalar> checked_alpha(Scalar alpha, DType dtype, const char* op) {
  TG_CHECK(alpha.kind() != Scalar::Kind::Bool || dtype == DType::Bool, op, "boolean alpha is only supported for boolean results, got ", dtype_name(dtype));
  TG_CHECK(is_floating(dtype) || !alpha.is_floating(), op, "for integral input tensors, argument alpha must not be a floating point number (got ", alpha.to_double(), ")");
  if (alpha.to_double() == 1.0) return std::nullopt;
  return alpha;
}

// alpha * b in dtype, for a + alpha * b and a - alpha * b.
Tensor scaled(const Tensor& b, std::optional<Scalar> alpha, DType dtype) {
  return alpha ? binary_kernel(BinaryOp::Mul, b, wrap(*alpha, dtype, b), dtype, dtype) : b;
}

// PyTorch refuses subtraction with any bool operand (`~` or logical_not() invert a mask).
void check_sub_operands(DType a, DType b) {
  TG_CHECK(a != DType::Bool || b != DType::Bool, "sub", "subtraction, the `-` operator, with two bool tensors is not "
           "supported; use the `^` or logical_xor() operator instead");
  TG_CHECK(a != DType::Bool && b != DType::Bool, "sub", "subtraction, the `-` operator, with a bool tensor is not "
           "supported; if you are trying to invert a mask, use the `~` or logical_not() operator instead");
}

Tensor add_impl(const Tensor& a, const Tensor& b, DType dtype, std::optional<Scalar> alpha) {
  Tensor out = binary_kernel(BinaryOp::Add, a, scaled(b, alpha, dtype), dtype, dtype);
  if (needs_grad(a, b)) record_binary_formula(BinaryFormulaKind::Add, a, b, out, alpha);
  return out;
}

Tensor sub_impl(const Tensor& a, const Tensor& b, DType dtype, std::optional<Scalar> alpha = std::nullopt) {
  Tensor out = binary_kernel(BinaryOp::Sub, a, scaled(b, alpha, dtype), dtype, dtype);
  if (needs_grad(a, b)) record_binary_formula(BinaryFormulaKind::Sub, a, b, out, alpha);
  return out;
}

Tensor mul_impl(const Tensor& a, const Tensor& b, DType dtype) {
  Tensor out = binary_kernel(BinaryOp::Mul, a, b, dtype, dtype);
  if (needs_grad(a, b)) record_binary_formula(BinaryFormulaKind::Mul, a, b, out);
  return out;
}

Tensor div_impl(const Tensor& a, const Tensor& b, DType dtype) {
  Tensor out = binary_kernel(BinaryOp::Div, a, b, dtype, dtype);
  if (needs_grad(a, b)) record_binary_formula(BinaryFormulaKind::Div, a, b, out);
  return out;
}

Tensor unary(UnaryOp op, const Tensor& a) {
  const UnaryFormula& formula = formula_of(op);
  const DType out_dtype = formula.result == UnaryResult::Same       ? a.dtype()
                          : formula.result == UnaryResult::Floating ? floating_result(a.dtype())
                                                                    : DType::Bool;
  Tensor out = Tensor::empty(a.sizes(), out_dtype, a.device(), formula.name);
  {
    NoGradGuard no_grad;
    kernels::backend(formula.name, out, a)->unary(op, out, to_dtype(a, out_dtype));
  }
  if (formula.backward && needs_grad(a) && is_floating(out_dtype)) {
    auto node = make_node<UnaryBackward>(formula);
    if (formula.saves == Saves::Input) node->save(0, a);
    node->connect({&a}, {&out});
    if (formula.saves == Saves::Result) node->save(0, out, /*is_output=*/true);
  }
  return out;
}

// floor, ceil, round and trunc: an integer tensor gives a copy of itself, a bool one an error (as
// in PyTorch).
Tensor whole_number_unary(UnaryOp op, const Tensor& a) {
  if (a.dtype() == DType::Bool) fail<NotImplementedError>(formula_of(op).name, "not implemented for dtype bool");
  return unary(op, a);
}

}  // namespace

// ---- binary ------------------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) { return add_impl(a, b, result_type(a, b), std::nullopt); }
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  const DType dtype = result_type(a, b);
  return add_impl(a, b, dtype, checked_alpha(alpha, dtype, "add"));
}
Tensor add(const Tensor& a, Scalar b) {
  const DType dtype = result_type(a, b);
  return add_impl(a, wrap(b, dtype, a), dtype, std::nullopt);
}
Tensor add(const Tensor& a, Scalar b, Scalar alpha) {
  const DType dtype = result_type(a, b);
  return add_impl(a, wrap(b, dtype, a), dtype, checked_alpha(alpha, dtype, "add"));
}
Tensor sub(const Tensor& a, const Tensor& b) {
  check_sub_operands(a.dtype(), b.dtype());
  return sub_impl(a, b, result_type(a, b));
}
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  check_sub_operands(a.dtype(), b.dtype());
  const DType dtype = result_type(a, b);
  return sub_impl(a, b, dtype, checked_alpha(alpha, dtype, "sub"));
}
Tensor sub(const Tensor& a, Scalar b) {
  check_sub_operands(a.dtype(), b.default_dtype_for());
  const DType dtype = result_type(a, b);
  return sub_impl(a, wrap(b, dtype, a), dtype);
}
Tensor sub(const Tensor& a, Scalar b, Scalar alpha) {
  check_sub_operands(a.dtype(), b.default_dtype_for());
  const DType dtype = result_type(a, b);
  return sub_impl(a, wrap(b, dtype, a), dtype, checked_alpha(alpha, dtype, "sub"));
}
Tensor rsub(const Tensor& a, Scalar b) {
  check_sub_operands(b.default_dtype_for(), a.dtype());
  const DType dtype = result_type(a, b);
  return sub_impl(wrap(b, dtype, a), a, dtype);
}
Tensor mul(const Tensor& a, const Tensor& b) { return mul_impl(a, b, result_type(a, b)); }
Tensor mul(const Tensor& a, Scalar b) {
  const DType dtype = result_type(a, b);
  return mul_impl(a, wrap(b, dtype, a), dtype);
}
Tensor div(const Tensor& a, const Tensor& b) { return div_impl(a, b, floating_result(result_type(a, b))); }
Tensor div(const Tensor& a, Scalar b) {
  const DType dtype = floating_result(result_type(a, b));
  return div_impl(a, wrap(b, dtype, a), dtype);
}
Tensor rdiv(const Tensor& a, Scalar b) {
  const DType dtype = floating_result(result_type(a, b));
  return div_impl(wrap(b, dtype, a), a, dtype);
}

namespace {

// Integer division by zero has no value to give: PyTorch raises (Python's ZeroDivisionError).
void check_integer_divisor(const Tensor& divisor, DType dtype, const char* op) {
  if (is_floating(dtype)) return;
  NoGradGuard no_grad;
  TG_CHECK(!any(compare(Comparison::Eq, divisor, Scalar(int64_t{0}))).data_ptr<bool>()[0], op, "ZeroDivisionError: integer division by zero");
}

// floor_divide, remainder, and div with rounding_mode 'trunc' or 'floor' (`is_div`: its zero
// gradients, where floor_divide has none) on a and b (either may be a wrapped number), in dtype.
Tensor rounded_division(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype, bool is_div = false) {
  const char* name = is_div ? "div" : binary_name(op);
  if (dtype == DType::Bool) fail<NotImplementedError>(name, "not implemented for dtype bool");
  check_integer_divisor(b, dtype, name);
  Tensor out = binary_kernel(op, a, b, dtype, dtype);
  if (!needs_grad(a, b)) return out;
  record_binary_formula(op == BinaryOp::Remainder ? BinaryFormulaKind::Remainder
                        : is_div                  ? BinaryFormulaKind::RoundedDiv
                                                  : BinaryFormulaKind::FloorDivide,
                        a, b, out);
  return out;
}

// rounded_division with a number b as the divisor, or as the dividend when `reflected` (b // a).
Tensor rounded_division(BinaryOp op, const Tensor& a, Scalar b, bool reflected, bool is_div = false) {
  const DType dtype = result_type(a, b);
  const Tensor number = wrap(b, dtype, a);
  return reflected ? rounded_division(op, number, a, dtype, is_div) : rounded_division(op, a, number, dtype, is_div);
}

}  // namespace

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  return rounded_division(BinaryOp::FloorDivide, a, b, result_type(a, b));
}
Tensor floor_divide(const Tensor& a, Scalar b) { return rounded_division(BinaryOp::FloorDivide, a, b, false); }
Tensor rfloor_divide(const Tensor& a, Scalar b) { return rounded_division(BinaryOp::FloorDivide, a, b, true); }
Tensor remainder(const Tensor& a, const Tensor& b) {
  return rounded_division(BinaryOp::Remainder, a, b, result_type(a, b));
}
Tensor remainder(const Tensor& a, Scalar b) { return rounded_division(BinaryOp::Remainder, a, b, false); }
Tensor rremainder(const Tensor& a, Scalar b) { return rounded_division(BinaryOp::Remainder, a, b, true); }

namespace {
BinaryOp rounding_op(RoundingMode mode) {
  return mode == RoundingMode::Floor ? BinaryOp::FloorDivide : BinaryOp::TruncDivide;
}
}  // namespace

Tensor div(const Tensor& a, const Tensor& b, RoundingMode mode) {
  if (mode == RoundingMode::None) return div(a, b);
  return rounded_division(rounding_op(mode), a, b, result_type(a, b), /*is_div=*/true);
}
Tensor div(const Tensor& a, Scalar b, RoundingMode mode) {
  if (mode == RoundingMode::None) return div(a, b);
  return rounded_division(rounding_op(mode), a, b, /*reflected=*/false, /*is_div=*/true);
}

namespace {
// As PyTorch: a bool base takes a bool number exponent (x ** True is x), not a bool tensor one.
void check_bool_exponent_tensor(DType dtype) {
  if (dtype == DType::Bool) fail<NotImplementedError>("pow", "not implemented for dtype bool with a tensor exponent");
}
}  // namespace

Tensor pow(const Tensor& a, const Tensor& b) {
  const DType dtype = result_type(a, b);
  check_bool_exponent_tensor(dtype);
  Tensor out = binary_kernel(BinaryOp::Pow, a, b, dtype, dtype);
  if (needs_grad(a, b)) {
    auto node = make_node<PowBackward1>();
    node->save(PowBackward1::Base, a);
    node->save(PowBackward1::Exponent, b);
    record_binary(node, a, b, out);
    node->save(PowBackward1::Result, out, /*is_output=*/true);
  }
  return out;
}

Tensor pow(const Tensor& a, Scalar exponent) {
  const DType dtype = result_type(a, exponent);
  // A tensor exponent may hold negative integers (they give 0 unless the base is ±1, as in
  // PyTorch); a number exponent may not.
  TG_CHECK(is_floating(dtype) || exponent.kind() != Scalar::Kind::Int || exponent.to<int64_t>() >= 0,
           "pow", "integers to negative integer powers are not allowed (exponent ", exponent.to<int64_t>(), ")");
  Tensor out = binary_kernel(BinaryOp::Pow, a, wrap(exponent, dtype, a), dtype, dtype);
  if (needs_grad(a)) {
    auto node = make_node<PowBackward0>(exponent);
    node->save(PowBackward0::Base, a);
    node->connect({&a}, {&out});
  }
  return out;
}

Tensor pow(Scalar base, const Tensor& exponent) {
  const DType dtype = result_type(exponent, base);
  check_bool_exponent_tensor(dtype);
  Tensor out = binary_kernel(BinaryOp::Pow, wrap(base, dtype, exponent), exponent, dtype, dtype);
  if (needs_grad(exponent)) {
    auto node = make_node<PowBackward2>(std::log(base.to_double()));
    if (base.to_double() == 0.0) node->save(PowBackward2::Exponent, exponent);
    node->connect({&exponent}, {&out});
    node->save(PowBackward2::Result, out, /*is_output=*/true);
  }
  return out;
}

// ---- unary -------------------------------------------------------------------------------------

Tensor neg(const Tensor& a) {
  TG_CHECK(a.dtype() != DType::Bool, "neg", "negation, the `-` operator, on a bool tensor is not supported; if you are "
           "trying to invert a mask, use the `~` or logical_not() operator instead");
  return unary(UnaryOp::Neg, a);
}
Tensor exp(const Tensor& a) { return unary(UnaryOp::Exp, a); }
Tensor log(const Tensor& a) { return unary(UnaryOp::Log, a); }
Tensor sqrt(const Tensor& a) { return unary(UnaryOp::Sqrt, a); }
Tensor rsqrt(const Tensor& a) { return unary(UnaryOp::Rsqrt, a); }
Tensor abs(const Tensor& a) { return unary(UnaryOp::Abs, a); }
Tensor sign(const Tensor& a) { return unary(UnaryOp::Sign, a); }
Tensor sin(const Tensor& a) { return unary(UnaryOp::Sin, a); }
Tensor cos(const Tensor& a) { return unary(UnaryOp::Cos, a); }
Tensor tanh(const Tensor& a) { return unary(UnaryOp::Tanh, a); }
Tensor sigmoid(const Tensor& a) { return unary(UnaryOp::Sigmoid, a); }
Tensor relu(const Tensor& a) {
  TG_CHECK(a.dtype() != DType::Bool, "relu", "bool inputs are not supported");
  return unary(UnaryOp::Relu, a);
}
Tensor logical_not(const Tensor& a) { return unary(UnaryOp::LogicalNot, a); }
Tensor atan(const Tensor& a) { return unary(UnaryOp::Atan, a); }
Tensor asin(const Tensor& a) { return unary(UnaryOp::Asin, a); }
Tensor acos(const Tensor& a) { return unary(UnaryOp::Acos, a); }
Tensor tan(const Tensor& a) { return unary(UnaryOp::Tan, a); }
Tensor sinh(const Tensor& a) { return unary(UnaryOp::Sinh, a); }
Tensor cosh(const Tensor& a) { return unary(UnaryOp::Cosh, a); }
Tensor log1p(const Tensor& a) { return unary(UnaryOp::Log1p, a); }
Tensor expm1(const Tensor& a) { return unary(UnaryOp::Expm1, a); }
Tensor log2(const Tensor& a) { return unary(UnaryOp::Log2, a); }
Tensor log10(const Tensor& a) { return unary(UnaryOp::Log10, a); }
Tensor exp2(const Tensor& a) { return unary(UnaryOp::Exp2, a); }
Tensor erf(const Tensor& a) { return unary(UnaryOp::Erf, a); }
Tensor floor(const Tensor& a) { return whole_number_unary(UnaryOp::Floor, a); }
Tensor ceil(const Tensor& a) { return whole_number_unary(UnaryOp::Ceil, a); }
Tensor round(const Tensor& a) { return whole_number_unary(UnaryOp::Round, a); }
Tensor trunc(const Tensor& a) { return whole_number_unary(UnaryOp::Trunc, a); }
Tensor frac(const Tensor& a) {
  if (!is_floating(a.dtype())) fail<NotImplementedError>("frac", "not implemented for dtype ", dtype_name(a.dtype()));
  return unary(UnaryOp::Frac, a);
}
Tensor reciprocal(const Tensor& a) { return unary(UnaryOp::Reciprocal, a); }
// As PyTorch: x ** 2, so its node is PowBackward0 and an integer or bool tensor gives pow's dtype.
Tensor square(const Tensor& a) { return pow(a, Scalar(int64_t{2})); }

Tensor threshold_backward(const Tensor& grad, const Tensor& out) {
  Tensor result = Tensor::empty(grad.sizes(), grad.dtype(), grad.device(), "threshold_backward");
  kernels::backend("threshold_backward", result, grad, out)->threshold_backward(result, grad, out);
  if (needs_grad(grad, out)) {
    auto node = make_node<ThresholdBackwardBackward0>();
    node->save(ThresholdBackwardBackward0::Output, out);
    node->connect({&grad, &out}, {&result});
  }
  return result;
}

// ---- in place ----------------------------------------------------------------------------------
// (how these run: inplace() in elementwise_internal.h)

namespace detail {

bool can_cast(DType from, DType to) { return category(from) <= category(to); }

bool write_directly(Tensor& self, BinaryOp op, const Tensor* other, bool record) {
  if (record || other == nullptr) return false;
  if (other->impl()->storage() == self.impl()->storage() && !other->is_same(self)) return false;
  if (other->sizes() != self.sizes() && broadcast_shapes(self.sizes(), other->sizes(), "inplace") != self.sizes())
    return false;
  NoGradGuard no_grad;
  kernels::backend(binary_name(op), self, self, *other)->binary(op, self, self, to_dtype(*other, self.dtype()));
  return true;
}

}  // namespace detail

Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha) {
  const bool plain = alpha.to_double() == 1.0;
  return inplace(self, "add_", result_type(self, other), other.requires_grad(),
                 [&](const Tensor& s) { return add(s, other.is_same(self) ? s : other, alpha); }, BinaryOp::Add,
                 plain ? &other : nullptr);
}
Tensor& add_(Tensor& self, Scalar other, Scalar alpha) {
  const bool plain = alpha.to_double() == 1.0;
  const Tensor wrapped = wrap(other, self.dtype(), self);
  return inplace(self, "add_", result_type(self, other), false, [&](const Tensor& s) { return add(s, other, alpha); },
                 BinaryOp::Add, plain ? &wrapped : nullptr);
}
Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha) {
  const bool plain = alpha.to_double() == 1.0;
  check_sub_operands(self.dtype(), other.dtype());
  return inplace(self, "sub_", result_type(self, other), other.requires_grad(),
                 [&](const Tensor& s) { return sub(s, other.is_same(self) ? s : other, alpha); }, BinaryOp::Sub,
                 plain ? &other : nullptr);
}
Tensor& sub_(Tensor& self, Scalar other, Scalar alpha) {
  const bool plain = alpha.to_double() == 1.0;
  check_sub_operands(self.dtype(), other.default_dtype_for());
  const Tensor wrapped = wrap(other, self.dtype(), self);
  return inplace(self, "sub_", result_type(self, other), false, [&](const Tensor& s) { return sub(s, other, alpha); },
                 BinaryOp::Sub, plain ? &wrapped : nullptr);
}
Tensor& mul_(Tensor& self, const Tensor& other) {
  return inplace(self, "mul_", result_type(self, other), other.requires_grad(),
                 [&](const Tensor& s) { return mul(s, other.is_same(self) ? s : other); }, BinaryOp::Mul, &other);
}
Tensor& mul_(Tensor& self, Scalar other) {
  const Tensor wrapped = wrap(other, self.dtype(), self);
  return inplace(self, "mul_", result_type(self, other), false, [&](const Tensor& s) { return mul(s, other); },
                 BinaryOp::Mul, &wrapped);
}
Tensor& div_(Tensor& self, const Tensor& other) {
  return inplace(self, "div_", floating_result(result_type(self, other)), other.requires_grad(),
                 [&](const Tensor& s) { return div(s, other.is_same(self) ? s : other); }, BinaryOp::Div, &other);
}
Tensor& div_(Tensor& self, Scalar other) {
  const Tensor wrapped = wrap(other, self.dtype(), self);
  return inplace(self, "div_", floating_result(result_type(self, other)), false,
                 [&](const Tensor& s) { return div(s, other); }, BinaryOp::Div, &wrapped);
}
Tensor& relu_(Tensor& self) {
  return inplace(self, "relu_", self.dtype(), false, [&](const Tensor& s) { return relu(s); });
}

}  // namespace tg
