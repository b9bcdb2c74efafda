// Recurrent layers (the direction of one layer of torch.nn.RNN / LSTM / GRU, and their cells) and
// the embedding lookup. A layer is one op and one node: its input GEMM for every time step at once,
// then per step the hidden GEMM (matmul into the gates) and one fused pointwise kernel; backward
// runs the steps in reverse with the fused pointwise backward, and the weight gradients are one
// GEMM each over all the steps.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/recurrent.h"  // RnnMode

namespace tg {

// One direction of one layer over a packed sequence: input (rows, input_size) holds the time
// steps one after another, step t the first batch_sizes[t] sequences of the batch (non-increasing
// sizes; an unpacked (T, B, I) input is T steps of B). hx (and, for LSTM, cx) are (B, H) with B =
// batch_sizes[0]; w_ih (G*H, input_size), w_hh (G*H, H), b_ih and b_hh (G*H) or both undefined.
// `reverse` runs the steps last to first, each sequence starting from its own last step. Returns
// {output (rows, H), h_n (B, H), c_n (B, H), LSTM only}: each sequence's state after its last step.
// `op` names the layer in errors ("rnn_tanh", "lstm", ...).
std::vector<Tensor> recurrent_layer(RnnMode mode, const Tensor& input, const std::vector<int64_t>& batch_sizes,
                                    const Tensor& hx, const Tensor& cx, const Tensor& w_ih, const Tensor& w_hh,
                                    const Tensor& b_ih, const Tensor& b_hh, bool reverse, const char* op);

// torch.nn.functional.embedding: weight's rows at `indices` (any integer shape), shaped indices +
// (embedding_dim). The row padding_idx (-1: none) gets no gradient; scale_grad_by_freq divides each
// row's gradient by its index's count in `indices`.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx, bool scale_grad_by_freq);

}  // namespace tg
