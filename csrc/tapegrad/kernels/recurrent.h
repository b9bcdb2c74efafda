// The parameter types of the recurrent-cell kernels (kernels/backend.h declares them).
#pragma once

#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tg {

// The cell of nn.RNN (tanh or relu), nn.LSTM and nn.GRU, with PyTorch's gate order: LSTM i, f, g,
// o; GRU r, z, n.
enum class RnnMode { Tanh, Relu, Lstm, Gru };

// The gates per hidden unit: 1, 4 or 3.
constexpr int64_t gate_count(RnnMode mode) {
  return mode == RnnMode::Lstm ? 4 : mode == RnnMode::Gru ? 3 : 1;
}

namespace kernels {

// One time step of `rows` sequences, every tensor contiguous with `rows` rows and the hidden size
// H (or a gate count times H) columns; the tensors a mode does not use are undefined.
struct RecurrentStep {
  // In: the input GEMM and the biases (GRU: b_ih only). Out: the gates' activations (tanh/relu:
  // the new hidden state).
  Tensor gates;
  // In: W_hh · h^T, (gate count * H, rows): the hidden GEMM computed transposed (the weight as the
  // left operand, read in place, is three times faster for a batch of a few dozen rows). The
  // kernel adds its transpose to the gates (GRU: to hidden_gates) before the activations.
  Tensor hidden_product;
  Tensor hidden_gates;  // GRU, in: b_hh; then W_hh · h + b_hh is kept there (r multiplies its n part)
  Tensor prev_hidden;   // GRU, in
  Tensor prev_cell;     // LSTM, in
  Tensor cell;          // LSTM, out
  Tensor hidden;        // out
};

// The same step backward: the gradients of the pre-activations from those of the step's outputs
// and what the forward step wrote.
struct RecurrentStepGrad {
  Tensor grad_gates;         // out: of `gates`' pre-activations (the input GEMM's side)
  Tensor grad_hidden_gates;  // GRU, out: of hidden_gates
  // In: the gradient of the new hidden state arriving from the next step (plus grad_output when
  // that is defined: the layer output's gradient at this step). GRU, out: the part of the previous
  // hidden state's gradient that skips the GEMM (z * dh).
  Tensor grad_hidden;
  Tensor grad_output;
  Tensor grad_cell;  // LSTM, in: of the new cell state; out: of the previous one
  Tensor gates;      // the forward's activations
  Tensor hidden_gates, prev_hidden, prev_cell, cell;
};

}  // namespace kernels
}  // namespace tg
