// The recurrent cells' pointwise step over a range of rows, compiled once per instruction set
// (recurrent_avx2.cpp, recurrent_avx512.cpp, and the baseline in recurrent.cpp) from this one
// source: float32 through vector_math's branch-free tanh and sigmoid, which the compiler vectorises
// (a time step is a few thousand elements and five transcendentals each, so scalar code cost more
// than the step's GEMM); float64 through libm.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tapegrad/kernels/cpu/vector_math.h"
#include "tapegrad/kernels/recurrent.h"

namespace tg::cpu {

// One step's tensors as the row loops read them (kernels::RecurrentStep and RecurrentStepGrad say
// what each holds); null where the mode has none. `hidden` is H, the gates' width gate_count * H.
template <typename T>
struct RecurrentRows {
  int64_t hidden_size;
  T* gates;
  const T* hidden_gates;
  const T* prev_hidden;
  const T* prev_cell;
  T* cell;
  T* hidden;
};

template <typename T>
struct RecurrentGradRows {
  int64_t hidden_size;
  T* grad_gates;
  T* grad_hidden_gates;
  T* grad_hidden;
  const T* grad_output;  // null: no gradient from the layer's output
  T* grad_cell;
  const T* gates;
  const T* hidden_gates;
  const T* prev_hidden;
  const T* prev_cell;
  const T* cell;
};

// The float32 row loops of one instruction set.
struct FloatRecurrentKernels {
  void (*forward)(RnnMode mode, const RecurrentRows<float>& step, int64_t first, int64_t last);
  void (*backward)(RnnMode mode, const RecurrentGradRows<float>& step, int64_t first, int64_t last);
};
FloatRecurrentKernels float_recurrent_kernels_baseline();
FloatRecurrentKernels float_recurrent_kernels_avx2();
FloatRecurrentKernels float_recurrent_kernels_avx512();

namespace {  // one copy per ISA-specific file; see vector_math.h

template <typename T>
inline T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vector_math::tanh(x);
  else return std::tanh(x);
}
template <typename T>
inline T sigmoid_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vector_math::sigmoid(x);
  else return T(1) / (T(1) + std::exp(-x));
}

// One row of each cell (H units); the pointers are restrict parameters so that the loops
// vectorise (GCC would not with restrict locals derived from one base).
template <typename T>
inline void lstm_row(T* __restrict i, T* __restrict f, T* __restrict g, T* __restrict o, const T* __restrict cp,
                     T* __restrict c, T* __restrict h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T in = sigmoid_of(i[j]), forget = sigmoid_of(f[j]), candidate = tanh_of(g[j]), out = sigmoid_of(o[j]);
    const T state = forget * cp[j] + in * candidate;
    i[j] = in;
    f[j] = forget;
    g[j] = candidate;
    o[j] = out;
    c[j] = state;
    h[j] = out * tanh_of(state);
  }
}

template <typename T>
inline void gru_row(T* __restrict r, T* __restrict z, T* __restrict n, const T* __restrict hr,
                    const T* __restrict hz, const T* __restrict hn, const T* __restrict hp, T* __restrict h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T reset = sigmoid_of(r[j] + hr[j]), update = sigmoid_of(z[j] + hz[j]);
    const T candidate = tanh_of(n[j] + reset * hn[j]);
    r[j] = reset;
    z[j] = update;
    n[j] = candidate;
    h[j] = (T(1) - update) * candidate + update * hp[j];
  }
}

template <typename T>
inline void simple_row(bool relu, T* __restrict g, T* __restrict h, int64_t H) {
  if (relu)
    for (int64_t j = 0; j < H; ++j) h[j] = g[j] = g[j] > T(0) ? g[j] : T(0);
  else
    for (int64_t j = 0; j < H; ++j) h[j] = g[j] = tanh_of(g[j]);
}

// dh below is the hidden state's gradient from the next step, d_out the layer output's (null:
// none); their sum is the step's.
template <typename T>
inline void lstm_backward_row(const T* __restrict i, const T* __restrict f, const T* __restrict g,
                              const T* __restrict o, T* __restrict di, T* __restrict df, T* __restrict dg,
                              T* __restrict d_o, const T* __restrict c, const T* __restrict cp, T* __restrict dc_io,
                              const T* __restrict dh_in, const T* __restrict d_out, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T dh = d_out != nullptr ? dh_in[j] + d_out[j] : dh_in[j], tc = tanh_of(c[j]);
    const T dc = dc_io[j] + dh * o[j] * (T(1) - tc * tc);
    d_o[j] = dh * tc * o[j] * (T(1) - o[j]);
    di[j] = dc * g[j] * i[j] * (T(1) - i[j]);
    df[j] = dc * cp[j] * f[j] * (T(1) - f[j]);
    dg[j] = dc * i[j] * (T(1) - g[j] * g[j]);
    dc_io[j] = dc * f[j];
  }
}

// dh_io: in, the gradient from the next step; out, the part of the previous state's gradient that
// skips the GEMM (z * dh).
template <typename T>
inline void gru_backward_row(const T* __restrict r, const T* __restrict z, const T* __restrict n,
                             const T* __restrict hn, const T* __restrict hp, T* __restrict dr, T* __restrict dz,
                             T* __restrict dn, T* __restrict dhr, T* __restrict dhz, T* __restrict dhn,
                             T* __restrict dh_io, const T* __restrict d_out, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T dh = d_out != nullptr ? dh_io[j] + d_out[j] : dh_io[j];
    const T dn_pre = dh * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
    const T dr_pre = dn_pre * hn[j] * r[j] * (T(1) - r[j]);
    const T dz_pre = dh * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
    dr[j] = dr_pre;
    dhr[j] = dr_pre;
    dz[j] = dz_pre;
    dhz[j] = dz_pre;
    dn[j] = dn_pre;
    dhn[j] = dn_pre * r[j];
    dh_io[j] = dh * z[j];
  }
}

template <typename T>
inline void simple_backward_row(bool relu, const T* __restrict h, T* __restrict dg, const T* __restrict dh_in,
                                const T* __restrict d_out, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T dh = d_out != nullptr ? dh_in[j] + d_out[j] : dh_in[j];
    dg[j] = relu ? (h[j] > T(0) ? dh : T(0)) : dh * (T(1) - h[j] * h[j]);
  }
}

template <typename T>
void recurrent_forward_rows(RnnMode mode, const RecurrentRows<T>& step, int64_t first, int64_t last) {
  const int64_t H = step.hidden_size, width = gate_count(mode) * H;
  for (int64_t row = first; row < last; ++row) {
    T* gates = step.gates + row * width;
    T* hidden = step.hidden + row * H;
    if (mode == RnnMode::Lstm)
      lstm_row(gates, gates + H, gates + 2 * H, gates + 3 * H, step.prev_cell + row * H, step.cell + row * H, hidden,
               H);
    else if (mode == RnnMode::Gru)
      gru_row(gates, gates + H, gates + 2 * H, step.hidden_gates + row * width, step.hidden_gates + row * width + H,
              step.hidden_gates + row * width + 2 * H, step.prev_hidden + row * H, hidden, H);
    else
      simple_row(mode == RnnMode::Relu, gates, hidden, H);
  }
}

template <typename T>
void recurrent_backward_rows(RnnMode mode, const RecurrentGradRows<T>& step, int64_t first, int64_t last) {
  const int64_t H = step.hidden_size, width = gate_count(mode) * H;
  for (int64_t row = first; row < last; ++row) {
    const T* gates = step.gates + row * width;
    T* grad_gates = step.grad_gates + row * width;
    T* grad_hidden = step.grad_hidden + row * H;
    const T* grad_output = step.grad_output != nullptr ? step.grad_output + row * H : nullptr;
    if (mode == RnnMode::Lstm) {
      lstm_backward_row(gates, gates + H, gates + 2 * H, gates + 3 * H, grad_gates, grad_gates + H,
                        grad_gates + 2 * H, grad_gates + 3 * H, step.cell + row * H, step.prev_cell + row * H,
                        step.grad_cell + row * H, grad_hidden, grad_output, H);
    } else if (mode == RnnMode::Gru) {
      T* grad_hidden_gates = step.grad_hidden_gates + row * width;
      gru_backward_row(gates, gates + H, gates + 2 * H, step.hidden_gates + row * width + 2 * H,
                       step.prev_hidden + row * H, grad_gates, grad_gates + H, grad_gates + 2 * H, grad_hidden_gates,
                       grad_hidden_gates + H, grad_hidden_gates + 2 * H, grad_hidden, grad_output, H);
    } else {
      simple_backward_row(mode == RnnMode::Relu, gates, grad_gates, grad_hidden, grad_output, H);
    }
  }
}

inline FloatRecurrentKernels make_float_recurrent_kernels() {
  return {&recurrent_forward_rows<float>, &recurrent_backward_rows<float>};
}

}  // namespace

}  // namespace tg::cpu
