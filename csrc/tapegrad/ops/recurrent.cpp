#include "tapegrad/ops/recurrent.h"

#include <string>
#include <utility>

#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/matmul.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

using kernels::RecurrentStep;
using kernels::RecurrentStepGrad;

// Where each time step's rows start in the packed input, and how many steps there are.
struct StepRows {
  std::vector<int64_t> batch_sizes, first_row;
  explicit StepRows(std::vector<int64_t> sizes) : batch_sizes(std::move(sizes)) {
    int64_t row = 0;
    for (int64_t size : batch_sizes) {
      first_row.push_back(row);
      row += size;
    }
  }
  int64_t steps() const { return static_cast<int64_t>(batch_sizes.size()); }
  // The k-th step processed: forward in time, or backward for a reverse direction.
  int64_t step(int64_t k, bool reverse) const { return reverse ? steps() - 1 - k : k; }
  Tensor rows(const Tensor& all, int64_t t) const { return all.defined() ? narrow(all, 0, first_row[t], batch_sizes[t]) : all; }
};

// The first rows * columns elements of a flat buffer as a contiguous (rows, columns) matrix: a
// step's transposed hidden product, in one buffer reused by every step.
Tensor leading_block(const Tensor& buffer, int64_t rows, int64_t columns) {
  return view(narrow(buffer, 0, 0, rows * columns), {rows, columns});
}

// The first `count` rows of a (batch, H) state: the sequences still running at a step.
Tensor leading(const Tensor& state, int64_t count) { return state.defined() ? narrow(state, 0, 0, count) : state; }

const char* node_name(RnnMode mode) {
  switch (mode) {
    case RnnMode::Tanh: return "RnnTanhBackward0";
    case RnnMode::Relu: return "RnnReluBackward0";
    case RnnMode::Lstm: return "LstmBackward0";
    case RnnMode::Gru: return "GruBackward0";
  }
  return "";
}

struct RecurrentLayerBackward final : Node {
  // Input and the weights; then what the forward steps wrote: the gates' activations, GRU's
  // hidden gates, every step's previous hidden state (the hidden GEMM's operand) and LSTM's cell
  // states before and after each step.
  enum Slot { Input, InputWeight, HiddenWeight, Gates, HiddenGates, PrevHidden, PrevCell, Cell };
  RnnMode mode;
  StepRows steps;
  bool reverse, has_bias;
  DimVector state_sizes;
  RecurrentLayerBackward(RnnMode m, StepRows s, bool r, bool bias, DimVector sizes)
      : mode(m), steps(std::move(s)), reverse(r), has_bias(bias), state_sizes(std::move(sizes)) {}

  TensorList apply(TensorList&& grads) override {
    // The backward is kernels, not differentiable ops: a second derivative would silently be zero.
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through a recurrent layer is not "
                                "implemented");
    const Tensor input = saved(Input), w_ih = saved(InputWeight), w_hh = saved(HiddenWeight);
    const Tensor gates = saved(Gates), hidden_gates = saved(HiddenGates), prev_hidden = saved(PrevHidden);
    const Tensor prev_cell = saved(PrevCell), cell = saved(Cell);
    const bool lstm = mode == RnnMode::Lstm, gru = mode == RnnMode::Gru;
    const DType dtype = gates.dtype();
    const Device device = gates.device();
    const auto state_grad = [&](size_t i) {
      return i < grads.size() && grads[i].defined() ? clone(grads[i]) : zeros(state_sizes, dtype, device);
    };
    const Tensor grad_output = grads[0].defined() ? contiguous(grads[0]) : grads[0];
    Tensor grad_hidden = state_grad(1);
    Tensor grad_cell = lstm ? state_grad(2) : Tensor();
    const Tensor grad_gates = Tensor::empty(gates.sizes(), dtype, device, node_name(mode));
    const Tensor grad_hidden_gates = gru ? Tensor::empty(gates.sizes(), dtype, device, node_name(mode)) : grad_gates;
    const int64_t hidden_size = state_sizes[1];
    const Tensor w_hh_t = contiguous(t(w_hh));  // read in place by the transposed hidden GEMM
    const Tensor product_buffer = Tensor::empty({hidden_size * state_sizes[0]}, dtype, device, node_name(mode));
    for (int64_t k = steps.steps() - 1; k >= 0; --k) {
      const int64_t at = steps.step(k, reverse), running = steps.batch_sizes[at];
      Tensor grad_previous = leading(grad_hidden, running);
      const RecurrentStepGrad step{steps.rows(grad_gates, at), gru ? steps.rows(grad_hidden_gates, at) : Tensor(),
                                   grad_previous, steps.rows(grad_output, at), leading(grad_cell, running),
                                   steps.rows(gates, at), steps.rows(hidden_gates, at), steps.rows(prev_hidden, at),
                                   steps.rows(prev_cell, at), steps.rows(cell, at)};
      kernels::backend(node_name(mode), gates)->recurrent_step_backward(mode, step);
      // The previous hidden state's gradient through the hidden GEMM, computed transposed as the
      // forward's (GRU adds it to z * dh).
      Tensor product = leading_block(product_buffer, hidden_size, running);
      kernels::backend("matmul", product, w_hh_t)->matmul(product, w_hh_t, t(steps.rows(grad_hidden_gates, at)), false);
      if (gru) add_(grad_previous, t(product));
      else copy_(grad_previous, t(product));
    }
    TensorList result(7);
    if (needs_input_grad(0)) result[0] = mm(grad_gates, w_ih);
    result[1] = grad_hidden;
    if (lstm) result[2] = grad_cell;
    if (needs_input_grad(3)) result[3] = mm(t(grad_gates), input);
    if (needs_input_grad(4)) result[4] = mm(t(grad_hidden_gates), prev_hidden);
    if (has_bias && needs_input_grad(5)) result[5] = sum(grad_gates, {0});
    if (has_bias && needs_input_grad(6)) result[6] = sum(grad_hidden_gates, {0});
    return result;
  }
  std::string name() const override { return node_name(mode); }
};

void check_layer(RnnMode mode, const Tensor& input, const std::vector<int64_t>& batch_sizes, const Tensor& hx,
                 const Tensor& cx, const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                 const char* op) {
  TG_CHECK(w_ih.dim() == 2 && w_hh.dim() == 2, op, "expected 2-D weights, got weight_ih of shape ", w_ih.sizes(),
           " and weight_hh of shape ", w_hh.sizes());
  const int64_t hidden = w_hh.size(1), width = gate_count(mode) * hidden;
  TG_CHECK(w_ih.size(0) == width && w_hh.size(0) == width, op, "expected weight_ih and weight_hh with ", width,
           " rows (", gate_count(mode), " gates of hidden size ", hidden, "), got ", w_ih.sizes(), " and ",
           w_hh.sizes());
  TG_CHECK(b_ih.defined() == b_hh.defined(), op, "expected both biases or neither");
  TG_CHECK(!b_ih.defined() || (b_ih.dim() == 1 && b_ih.size(0) == width && b_hh.dim() == 1 && b_hh.size(0) == width),
           op, "expected biases of shape (", width, "), got ", b_ih.sizes(), " and ", b_hh.sizes());
  TG_CHECK(input.dim() == 2, op, "expected a 2-D (rows, input_size) input, got shape ", input.sizes());
  TG_CHECK(input.size(1) == w_ih.size(1), op, "input.size(-1) must be equal to input_size. Expected ", w_ih.size(1),
           ", got ", input.size(1));
  int64_t rows = 0;
  for (size_t t = 0; t < batch_sizes.size(); ++t) {
    TG_CHECK(batch_sizes[t] > 0 && (t == 0 || batch_sizes[t] <= batch_sizes[t - 1]), op,
             "batch_sizes must be positive and non-increasing, got ", batch_sizes[t], " at step ", t);
    rows += batch_sizes[t];
  }
  TG_CHECK(rows == input.size(0), op, "the batch sizes add up to ", rows, " rows but the input has ", input.size(0));
  const int64_t batch = batch_sizes.empty() ? hx.size(0) : batch_sizes[0];
  const DimVector expected{batch, hidden};
  TG_CHECK(hx.sizes() == expected, op, "Expected hidden size ", expected, ", got ", hx.sizes());
  TG_CHECK(mode != RnnMode::Lstm || cx.sizes() == expected, op, "Expected hidden[1] size ", expected, ", got ",
           cx.sizes());
  const DType dtype = input.dtype();
  TG_CHECK_TYPE(is_floating(dtype), op, "not implemented for dtype ", dtype_name(dtype));
  for (const Tensor* tensor : {&hx, &cx, &w_ih, &w_hh, &b_ih, &b_hh})
    TG_CHECK(!tensor->defined() || tensor->dtype() == dtype, op, "expected every tensor to have the input's dtype ",
             dtype_name(dtype), ", got ", dtype_name(tensor->dtype()));
}

}  // namespace

std::vector<Tensor> recurrent_layer(RnnMode mode, const Tensor& input, const std::vector<int64_t>& batch_sizes,
                                    const Tensor& hx, const Tensor& cx, const Tensor& w_ih, const Tensor& w_hh,
                                    const Tensor& b_ih, const Tensor& b_hh, bool reverse, const char* op) {
  check_layer(mode, input, batch_sizes, hx, cx, w_ih, w_hh, b_ih, b_hh, op);
  const bool lstm = mode == RnnMode::Lstm, gru = mode == RnnMode::Gru;
  const StepRows steps(batch_sizes);
  const int64_t rows = input.size(0), hidden = w_hh.size(1);
  const DType dtype = input.dtype();
  const Device device = input.device();
  Tensor output = Tensor::empty({rows, hidden}, dtype, device, op);
  Tensor h_n = clone(hx), c_n = lstm ? clone(cx) : Tensor();
  Tensor x, gates, hidden_gates, prev_hidden, prev_cell, cell;
  {
    NoGradGuard no_grad;  // the op records its own node
    x = contiguous(input);
    // The input GEMM of every step at once, with both biases folded in (GRU keeps b_hh for the
    // hidden gates: r multiplies its n part).
    const Tensor bias = b_ih.defined() && !gru ? add(b_ih, b_hh) : b_ih;
    gates = linear(x, w_ih, bias);
    if (gru) hidden_gates = Tensor::empty(gates.sizes(), dtype, device, op);
    prev_hidden = Tensor::empty({rows, hidden}, dtype, device, op);
    if (lstm) {
      prev_cell = Tensor::empty({rows, hidden}, dtype, device, op);
      cell = Tensor::empty({rows, hidden}, dtype, device, op);
    }
    const int64_t width = gate_count(mode) * hidden;
    const Tensor product_buffer = Tensor::empty({width * h_n.size(0)}, dtype, device, op);
    for (int64_t k = 0; k < steps.steps(); ++k) {
      const int64_t at = steps.step(k, reverse), running = steps.batch_sizes[at];
      Tensor previous = steps.rows(prev_hidden, at), state = leading(h_n, running);
      copy_(previous, state);
      Tensor step_gates = steps.rows(gates, at), step_hidden_gates = steps.rows(hidden_gates, at);
      if (gru) {
        if (b_hh.defined()) copy_(step_hidden_gates, b_hh);
        else zero_(step_hidden_gates);
      }
      Tensor product = leading_block(product_buffer, width, running);
      kernels::backend("matmul", product, w_hh, previous)->matmul(product, w_hh, t(previous), false);
      Tensor step_prev_cell = steps.rows(prev_cell, at), step_cell = steps.rows(cell, at), cell_state;
      if (lstm) {
        cell_state = leading(c_n, running);
        copy_(step_prev_cell, cell_state);
      }
      Tensor step_output = steps.rows(output, at);
      kernels::backend(op, step_gates)
          ->recurrent_step(mode, RecurrentStep{step_gates, product, step_hidden_gates, previous, step_prev_cell,
                                               step_cell, step_output});
      copy_(state, step_output);
      if (lstm) copy_(cell_state, step_cell);
    }
  }
  std::vector<Tensor> inputs{input, hx, cx, w_ih, w_hh, b_ih, b_hh};
  std::vector<Tensor> outputs{output, h_n};
  if (lstm) outputs.push_back(c_n);
  if (any_needs_grad(inputs)) {
    auto node = make_node<RecurrentLayerBackward>(mode, steps, reverse, b_ih.defined(), hx.sizes());
    using Slot = RecurrentLayerBackward::Slot;
    node->save(Slot::Input, x);
    node->save(Slot::InputWeight, w_ih);
    node->save(Slot::HiddenWeight, w_hh);
    node->save(Slot::Gates, gates);
    node->save(Slot::HiddenGates, hidden_gates);
    node->save(Slot::PrevHidden, prev_hidden);
    node->save(Slot::PrevCell, prev_cell);
    node->save(Slot::Cell, cell);
    node->connect(inputs, outputs);
  }
  return outputs;
}

// ---- embedding -------------------------------------------------------------------------------

namespace {

struct EmbeddingBackward final : Node {
  enum Slot { Indices };
  DimVector weight_sizes;
  int64_t padding_idx;
  bool scale_grad_by_freq;
  EmbeddingBackward(DimVector sizes, int64_t padding, bool scale)
      : weight_sizes(std::move(sizes)), padding_idx(padding), scale_grad_by_freq(scale) {}
  TensorList apply(TensorList&& grads) override {
    if (GradMode::is_enabled())
      fail<NotImplementedError>(name(), "double backward (create_graph=True) through embedding is not implemented");
    const Tensor indices = saved(Indices);
    const Tensor grad = reshape(contiguous(grads[0]), {indices.numel(), weight_sizes[1]});
    Tensor grad_weight = zeros(weight_sizes, grad.dtype(), grad.device());
    kernels::backend("embedding_backward", grad_weight, grad, indices)
        ->embedding_backward(grad_weight, grad, indices, padding_idx, scale_grad_by_freq);
    return {grad_weight};
  }
  std::string name() const override { return "EmbeddingBackward0"; }
};

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq) {
  TG_CHECK(weight.dim() == 2, "embedding", "'weight' must be 2-D, got shape ", weight.sizes());
  TG_CHECK(indices.dtype() == DType::Int64 || indices.dtype() == DType::Int32, "embedding",
                "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
                "got ", dtype_name(indices.dtype()), " instead");
  Tensor flat, out;
  {
    NoGradGuard no_grad;
    const Tensor positions = contiguous(to_dtype(indices, DType::Int64));
    if (positions.numel() > 0) {
      const int64_t smallest = *min(positions).data_ptr<int64_t>(), largest = *max(positions).data_ptr<int64_t>();
      TG_CHECK_INDEX(smallest >= 0 && largest < weight.size(0), "embedding", "index out of range in self: indices from ",
                     smallest, " to ", largest, " for a weight of shape ", weight.sizes());
    }
    flat = reshape(positions, {positions.numel()});
    out = index(weight, std::vector<Tensor>{positions});  // indices' shape + (embedding_dim)
  }
  if (needs_grad(weight)) {
    auto node = make_node<EmbeddingBackward>(weight.sizes(), padding_idx, scale_grad_by_freq);
    node->save(EmbeddingBackward::Indices, flat);
    node->connect({&weight}, {&out});
  }
  return out;
}

}  // namespace tg
