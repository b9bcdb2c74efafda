#include "tapegrad/ops/loss.h"

#include <iterator>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/activation.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/view.h"

namespace tg {

using kernels::ClassLayout;
using kernels::ClassTarget;
using kernels::PointwiseLoss;
using kernels::UpstreamScale;

Reduction reduction_from_string(std::string_view name, const char* op) {
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  if (name == "none") return Reduction::None;
  fail<ValueError>(op, "'", name, "' is not a valid value for reduction (expected 'none', 'mean' or 'sum')");
}

namespace {

// The backward of a fused loss is a kernel, not a composition of differentiable ops, so a
// second derivative through it would silently come out as zero: refuse create_graph instead.
void refuse_double_backward(const Node& node) {
  if (GradMode::is_enabled())
    fail<NotImplementedError>(node.name(), "double backward (create_graph=True) through a fused loss is not "
                              "implemented; compose the loss from elementary ops to differentiate it twice");
}

// A contiguous tensor of `shape` and `dtype` holding `tensor`'s values, without history: the
// loss records its own node on the original inputs.
Tensor prepare(const Tensor& tensor, DType dtype, const DimVector& shape) {
  if (!tensor.defined()) return tensor;
  NoGradGuard no_grad;
  Tensor converted = to_dtype(tensor, dtype);
  if (converted.sizes() != shape) converted = expand(converted, shape);
  return contiguous(converted);
}

// The reduced loss (mean divides by `denominator`) as a 0-dim tensor, or `per_element` as it is.
Tensor finish(Reduction reduction, const Tensor& per_element, double total, double denominator, DType dtype,
              Device device) {
  if (reduction == Reduction::None) return per_element;
  const double value = reduction == Reduction::Sum ? total : total / denominator;
  return scalar_tensor(Scalar(value), dtype, device);
}

// ---- pointwise losses ------------------------------------------------------------------------

// One row per PointwiseLoss, in the enum's order: the node's name and the target's shape rule. Every
// one saves the (converted) input, target and weights, and its formula is the backward kernel.
struct PointwiseLossRow {
  PointwiseLoss kind;
  const char* node_name;
  bool target_broadcasts;  // else the target must have the input's shape
};

constexpr PointwiseLossRow pointwise_losses[] = {
    {PointwiseLoss::MSE, "MseLossBackward0", true},
    {PointwiseLoss::L1, "L1LossBackward0", true},
    {PointwiseLoss::BCE, "BinaryCrossEntropyBackward0", false},
    {PointwiseLoss::BCEWithLogits, "BinaryCrossEntropyWithLogitsBackward0", false},
    {PointwiseLoss::SmoothL1, "SmoothL1LossBackward0", true},
    {PointwiseLoss::Huber, "HuberLossBackward0", true},
};

constexpr bool loss_rows_follow_enum() {
  for (size_t i = 0; i < std::size(pointwise_losses); ++i)
    if (pointwise_losses[i].kind != static_cast<PointwiseLoss>(i)) return false;
  return true;
}
static_assert(std::size(pointwise_losses) == static_cast<size_t>(PointwiseLoss::Huber) + 1 &&
                  loss_rows_follow_enum(),
              "one row per PointwiseLoss, in the enum's order");

struct PointwiseLossBackward final : Node {
  PointwiseLoss kind;
  UpstreamScale scale;
  double parameter;
  enum Slot { Input, Target, Weight, PosWeight };
  PointwiseLossBackward(PointwiseLoss k, UpstreamScale s, double p) : kind(k), scale(s), parameter(p) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor x = saved(Input), y = saved(Target), w = saved(Weight), pw = saved(PosWeight);
    Tensor grad_input = needs_input_grad(0) ? empty_like(x) : Tensor();
    Tensor grad_target = needs_input_grad(1) ? empty_like(x) : Tensor();
    kernels::backend(kernels::loss_name(kind), grads[0], grad_input, grad_target, x, y, w, pw)
        ->pointwise_loss_backward(kind, grad_input, grad_target, contiguous(grads[0]), scale, x, y, w, pw, parameter);
    return {grad_input, grad_target};
  }
  std::string name() const override { return pointwise_losses[static_cast<int>(kind)].node_name; }
};

Tensor pointwise_loss(PointwiseLoss kind, const Tensor& input, const Tensor& target, const Tensor& weight,
                      const Tensor& pos_weight, Reduction reduction, double parameter = 0.0) {
  const char* op = kernels::loss_name(kind);
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "expects a floating-point input, got ", dtype_name(input.dtype()));
  const PointwiseLossRow& row = pointwise_losses[static_cast<int>(kind)];
  DimVector shape = input.sizes();
  if (row.target_broadcasts) {
    shape = broadcast_shapes(input.sizes(), target.sizes(), op);
  } else {
    TG_CHECK_VALUE(target.sizes() == input.sizes(), op, "target size ", target.sizes(),
                   " must be the same as input size ", input.sizes());
  }
  for (const Tensor* extra : {&weight, &pos_weight}) {
    if (!extra->defined()) continue;
    TG_CHECK(broadcast_shapes(extra->sizes(), shape, op) == shape, op, "weight of shape ", extra->sizes(),
             " does not broadcast to the input's shape ", shape);
  }
  const DType dtype = is_floating(target.dtype()) ? promote_types(input.dtype(), target.dtype()) : input.dtype();
  const Tensor x = prepare(input, dtype, shape), y = prepare(target, dtype, shape);
  const Tensor w = prepare(weight, dtype, shape), pw = prepare(pos_weight, dtype, shape);
  const double count = static_cast<double>(x.numel());
  Tensor per_element = reduction == Reduction::None ? empty(shape, dtype, input.device()) : Tensor();
  const double total = kernels::backend(op, x, per_element, y, w, pw)->pointwise_loss(kind, per_element, x, y, w, pw, parameter);
  Tensor out = finish(reduction, per_element, total, count, dtype, input.device());
  if (needs_grad(input, target)) {
    auto node = make_node<PointwiseLossBackward>(kind, UpstreamScale{reduction, count}, parameter);
    node->save(PointwiseLossBackward::Input, x);
    node->save(PointwiseLossBackward::Target, y);
    node->save(PointwiseLossBackward::Weight, w);
    node->save(PointwiseLossBackward::PosWeight, pw);
    node->connect({&input, &target}, {&out});
  }
  return out;
}

// ---- classification losses -------------------------------------------------------------------

ClassLayout class_layout(const Tensor& input, const Tensor& target, const Tensor& weight, bool probabilities, const char* op) {
  TG_CHECK_TYPE(is_floating(input.dtype()), op, "expects a floating-point input, got ", dtype_name(input.dtype()));
  TG_CHECK(input.dim() >= 1, op, "input must have a class dim, got a 0-dim tensor");
  ClassLayout layout;
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  layout.classes = input.sizes()[class_dim];
  if (class_dim == 1) layout.batch = input.sizes()[0];
  for (int64_t d = 2; d < input.dim(); ++d) layout.inner *= input.sizes()[d];
  DimVector expected = input.sizes();
  if (!probabilities) expected.erase(static_cast<size_t>(class_dim));
  TG_CHECK(target.sizes() == expected, op, "input of shape ", input.sizes(), " needs a target of shape ",
           expected, ", got ", target.sizes());
  if (weight.defined())
    TG_CHECK(weight.dim() == 1 && weight.numel() == layout.classes, op, "weight should be a 1-D tensor with one entry per class (", layout.classes, "), got shape ", weight.sizes());
  return layout;
}

// Class-index targets as contiguous int64 (the kernels check each is a class or ignore_index).
Tensor class_targets(const Tensor& target, const char* op) {
  TG_CHECK_TYPE(target.dtype() == DType::Int64 || target.dtype() == DType::Int32, op, "expects class-index targets of dtype int64 (or floating-point class probabilities), got ",
                dtype_name(target.dtype()));
  return prepare(target, DType::Int64, target.sizes());
}

// The loss shape for reduction='none': the input's shape without the class dim.
DimVector row_shape(const Tensor& input) {
  DimVector shape = input.sizes();
  shape.erase(input.dim() == 1 ? 0 : 1);
  return shape;
}

struct CrossEntropyLossBackward final : Node {
  ClassTarget spec;
  UpstreamScale scale;
  bool probabilities;
  enum Slot { Input, Target, Weight, LogSumExp };
  CrossEntropyLossBackward(ClassTarget s, UpstreamScale u, bool probs) : spec(s), scale(u), probabilities(probs) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor x = saved(Input), t = saved(Target), lse = saved(LogSumExp);
    const Tensor w = saved(Weight);
    Tensor grad_input = needs_input_grad(0) ? empty_like(x) : Tensor();
    Tensor grad_target = probabilities && needs_input_grad(1) ? empty_like(x) : Tensor();
    kernels::backend("cross_entropy_backward", grads[0], grad_input, grad_target, x, t, w, lse)
        ->cross_entropy_backward(grad_input, grad_target, contiguous(grads[0]), scale, x, t, w, lse, spec);
    return {grad_input, grad_target};
  }
  std::string name() const override { return "CrossEntropyLossBackward0"; }
};

struct NllLossBackward final : Node {
  ClassTarget spec;
  UpstreamScale scale;
  enum Slot { Target, Weight };
  DimVector input_sizes;
  DType dtype;
  Device device;
  NllLossBackward(ClassTarget s, UpstreamScale u, DimVector sizes, DType d, Device v)
      : spec(s), scale(u), input_sizes(std::move(sizes)), dtype(d), device(v) {}

  TensorList apply(TensorList&& grads) override {
    refuse_double_backward(*this);
    const Tensor t = saved(Target), w = saved(Weight);
    Tensor grad_input = zeros(input_sizes, dtype, device);
    kernels::backend("nll_loss_backward", grad_input, grads[0], t, w)
        ->nll_loss_backward(grad_input, contiguous(grads[0]), scale, t, w, spec);
    return {grad_input};
  }
  std::string name() const override { return "NllLossBackward0"; }
};

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(PointwiseLoss::MSE, input, target, Tensor(), Tensor(), reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return pointwise_loss(PointwiseLoss::L1, input, target, Tensor(), Tensor(), reduction);
}

// beta 0 is l1_loss, as in PyTorch (the formula would divide by it).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  TG_CHECK(beta >= 0.0, "smooth_l1_loss", "smooth_l1_loss does not support negative values for beta (got ", beta, ")");
  if (beta == 0.0) return l1_loss(input, target, reduction);
  return pointwise_loss(PointwiseLoss::SmoothL1, input, target, Tensor(), Tensor(), reduction, beta);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  TG_CHECK(delta > 0.0, "huber_loss", "huber_loss does not support non-positive values for delta (got ", delta, ")");
  return pointwise_loss(PointwiseLoss::Huber, input, target, Tensor(), Tensor(), reduction, delta);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction) {
  return pointwise_loss(PointwiseLoss::BCE, input, target, weight, Tensor(), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction reduction) {
  return pointwise_loss(PointwiseLoss::BCEWithLogits, input, target, weight, pos_weight, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction,
                     int64_t ignore_index, double label_smoothing) {
  const char* op = "cross_entropy";
  TG_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, op, "label_smoothing must be between 0.0 and 1.0, got ", label_smoothing);
  const bool probabilities = is_floating(target.dtype());
  const ClassTarget spec{class_layout(input, target, weight, probabilities, op), ignore_index, label_smoothing};
  // For class indices without label smoothing PyTorch's graph is log_softmax then nll_loss, and
  // grad_fn and its next_functions show it (NllLossBackward0 -> LogSoftmaxBackward0): with a
  // gradient to record, take that path (its backward is the same two kernels); without one, the
  // fused kernel runs in one pass.
  if (!probabilities && label_smoothing == 0.0 && needs_grad(input, target))
    return nll_loss(log_softmax(input, input.dim() == 1 ? 0 : 1), target, weight, reduction, ignore_index);
  // Probabilities take part in type promotion, as in PyTorch: float32 logits with float64
  // probabilities give a float64 loss (and a float32 gradient for the logits).
  const DType dtype = probabilities ? promote_types(input.dtype(), target.dtype()) : input.dtype();
  const Tensor x = prepare(input, dtype, input.sizes()), w = prepare(weight, dtype, weight.defined() ? weight.sizes() : DimVector{});
  const Tensor t = probabilities ? prepare(target, dtype, target.sizes()) : class_targets(target, op);
  Tensor lse = empty({spec.layout.rows()}, dtype, input.device());
  Tensor per_row = reduction == Reduction::None ? empty(row_shape(input), dtype, input.device()) : Tensor();
  const kernels::ClassLossTotals totals =
      kernels::backend("cross_entropy", x, per_row, lse, t, w)->cross_entropy(per_row, lse, x, t, w, spec);
  Tensor result = finish(reduction, per_row, totals.total, totals.denominator, dtype, input.device());
  if (needs_grad(input, target)) {
    auto node = make_node<CrossEntropyLossBackward>(spec, UpstreamScale{reduction, totals.denominator}, probabilities);
    node->save(CrossEntropyLossBackward::Input, x);
    node->save(CrossEntropyLossBackward::Target, t);
    node->save(CrossEntropyLossBackward::Weight, w);
    node->save(CrossEntropyLossBackward::LogSumExp, lse);
    node->connect({&input, &target}, {&result});
  }
  return result;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction reduction, int64_t ignore_index) {
  const char* op = "nll_loss";
  const ClassTarget spec{class_layout(input, target, weight, /*probabilities=*/false, op), ignore_index, 0.0};
  const DType dtype = input.dtype();
  const Tensor x = prepare(input, dtype, input.sizes()), w = prepare(weight, dtype, weight.defined() ? weight.sizes() : DimVector{});
  const Tensor t = class_targets(target, op);
  Tensor per_row = reduction == Reduction::None ? empty(row_shape(input), dtype, input.device()) : Tensor();
  const kernels::ClassLossTotals totals =
      kernels::backend("nll_loss", x, per_row, t, w)->nll_loss(per_row, x, t, w, spec);
  Tensor result = finish(reduction, per_row, totals.total, totals.denominator, dtype, input.device());
  if (needs_grad(input)) {
    auto node = make_node<NllLossBackward>(spec, UpstreamScale{reduction, totals.denominator}, input.sizes(), dtype,
                                           input.device());
    node->save(NllLossBackward::Target, t);
    node->save(NllLossBackward::Weight, w);
    node->connect({&input}, {&result});
  }
  return result;
}

}  // namespace tg
