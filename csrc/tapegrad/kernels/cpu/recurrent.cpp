// CPU kernels of the recurrent layers' fused time step (the pointwise part: the GEMMs run through
// matmul) and of the embedding's backward.
#include <cmath>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/vector_math.h"

namespace tg::cpu {

namespace {

using kernels::RecurrentStep;
using kernels::RecurrentStepGrad;

// float32 through the branch-free polynomials the compiler vectorises, float64 through libm.
template <typename T>
T tanh_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vector_math::tanh(x);
  else return std::tanh(x);
}
template <typename T>
T sigmoid_of(T x) {
  if constexpr (std::is_same_v<T, float>) return vector_math::sigmoid(x);
  else return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
const T* rows_of(const Tensor& tensor) {
  return tensor.defined() ? tensor.data_ptr<T>() : nullptr;
}

// body(first_row, last_row) over the step's rows, in threads when there is enough work.
template <typename Body>
void over_rows(int64_t rows, int64_t row_work, Body&& body) {
  parallel_ranges(rows, rows * row_work, std::forward<Body>(body));
}

template <typename T>
void step_forward(RnnMode mode, const RecurrentStep& step) {
  const int64_t rows = step.hidden.size(0), H = step.hidden.size(1);
  T* gates = step.gates.data_ptr<T>();
  T* hidden = step.hidden.data_ptr<T>();
  const int64_t width = gate_count(mode) * H;
  switch (mode) {
    case RnnMode::Tanh:
    case RnnMode::Relu:
      over_rows(rows, 8 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          T* g = gates + r * H;
          T* h = hidden + r * H;
          if (mode == RnnMode::Tanh)
            for (int64_t j = 0; j < H; ++j) g[j] = tanh_of(g[j]);
          else
            for (int64_t j = 0; j < H; ++j) g[j] = g[j] > T(0) ? g[j] : T(0);
          for (int64_t j = 0; j < H; ++j) h[j] = g[j];
        }
      });
      return;
    case RnnMode::Lstm: {
      const T* prev_cell = step.prev_cell.data_ptr<T>();
      T* cell = step.cell.data_ptr<T>();
      over_rows(rows, 40 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          T* __restrict i = gates + r * width;
          T* __restrict f = i + H;
          T* __restrict g = f + H;
          T* __restrict o = g + H;
          const T* __restrict cp = prev_cell + r * H;
          T* __restrict c = cell + r * H;
          T* __restrict h = hidden + r * H;
          for (int64_t j = 0; j < H; ++j) {
            i[j] = sigmoid_of(i[j]);
            f[j] = sigmoid_of(f[j]);
            g[j] = tanh_of(g[j]);
            o[j] = sigmoid_of(o[j]);
            c[j] = f[j] * cp[j] + i[j] * g[j];
            h[j] = o[j] * tanh_of(c[j]);
          }
        }
      });
      return;
    }
    case RnnMode::Gru: {
      const T* hidden_gates = step.hidden_gates.data_ptr<T>();
      const T* prev_hidden = step.prev_hidden.data_ptr<T>();
      over_rows(rows, 30 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          T* __restrict rg = gates + r * width;
          T* __restrict z = rg + H;
          T* __restrict n = z + H;
          const T* __restrict hr = hidden_gates + r * width;
          const T* __restrict hz = hr + H;
          const T* __restrict hn = hz + H;
          const T* __restrict hp = prev_hidden + r * H;
          T* __restrict h = hidden + r * H;
          for (int64_t j = 0; j < H; ++j) {
            rg[j] = sigmoid_of(rg[j] + hr[j]);
            z[j] = sigmoid_of(z[j] + hz[j]);
            n[j] = tanh_of(n[j] + rg[j] * hn[j]);
            h[j] = (T(1) - z[j]) * n[j] + z[j] * hp[j];
          }
        }
      });
      return;
    }
  }
}

template <typename T>
void step_backward(RnnMode mode, const RecurrentStepGrad& step) {
  const int64_t rows = step.grad_hidden.size(0), H = step.grad_hidden.size(1);
  const int64_t width = gate_count(mode) * H;
  const T* gates = step.gates.data_ptr<T>();
  T* grad_gates = step.grad_gates.data_ptr<T>();
  T* grad_hidden = step.grad_hidden.data_ptr<T>();
  const T* grad_output = rows_of<T>(step.grad_output);
  // The hidden state's gradient at row r, unit j: from the next step and from the layer's output.
  auto dh_of = [&](int64_t r, int64_t j) {
    return grad_output != nullptr ? grad_hidden[r * H + j] + grad_output[r * H + j] : grad_hidden[r * H + j];
  };
  switch (mode) {
    case RnnMode::Tanh:
    case RnnMode::Relu:
      over_rows(rows, 4 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r)
          for (int64_t j = 0; j < H; ++j) {
            const T h = gates[r * H + j], dh = dh_of(r, j);
            grad_gates[r * H + j] = mode == RnnMode::Tanh ? dh * (T(1) - h * h) : (h > T(0) ? dh : T(0));
          }
      });
      return;
    case RnnMode::Lstm: {
      const T* cell = step.cell.data_ptr<T>();
      const T* prev_cell = step.prev_cell.data_ptr<T>();
      T* grad_cell = step.grad_cell.data_ptr<T>();
      over_rows(rows, 40 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          const T* i = gates + r * width;
          const T* f = i + H;
          const T* g = f + H;
          const T* o = g + H;
          T* di = grad_gates + r * width;
          T* df = di + H;
          T* dg = df + H;
          T* d_o = dg + H;
          const T* c = cell + r * H;
          const T* cp = prev_cell + r * H;
          T* dc_io = grad_cell + r * H;
          for (int64_t j = 0; j < H; ++j) {
            const T dh = dh_of(r, j);
            const T tc = tanh_of(c[j]);
            const T dc = dc_io[j] + dh * o[j] * (T(1) - tc * tc);
            d_o[j] = dh * tc * o[j] * (T(1) - o[j]);
            di[j] = dc * g[j] * i[j] * (T(1) - i[j]);
            df[j] = dc * cp[j] * f[j] * (T(1) - f[j]);
            dg[j] = dc * i[j] * (T(1) - g[j] * g[j]);
            dc_io[j] = dc * f[j];
          }
        }
      });
      return;
    }
    case RnnMode::Gru: {
      const T* hidden_gates = step.hidden_gates.data_ptr<T>();
      const T* prev_hidden = step.prev_hidden.data_ptr<T>();
      T* grad_hidden_gates = step.grad_hidden_gates.data_ptr<T>();
      over_rows(rows, 30 * H, [&](int64_t first, int64_t last) {
        for (int64_t r = first; r < last; ++r) {
          const T* rg = gates + r * width;
          const T* z = rg + H;
          const T* n = z + H;
          const T* hn = hidden_gates + r * width + 2 * H;
          const T* hp = prev_hidden + r * H;
          T* dr = grad_gates + r * width;
          T* dz = dr + H;
          T* dn = dz + H;
          T* dhr = grad_hidden_gates + r * width;
          T* dhz = dhr + H;
          T* dhn = dhz + H;
          for (int64_t j = 0; j < H; ++j) {
            const T dh = dh_of(r, j);
            const T dn_pre = dh * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
            const T dr_pre = dn_pre * hn[j] * rg[j] * (T(1) - rg[j]);
            const T dz_pre = dh * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
            dr[j] = dhr[j] = dr_pre;
            dz[j] = dhz[j] = dz_pre;
            dn[j] = dn_pre;
            dhn[j] = dn_pre * rg[j];
            grad_hidden[r * H + j] = dh * z[j];
          }
        }
      });
      return;
    }
  }
}

}  // namespace

void CpuBackend::recurrent_step(RnnMode mode, const RecurrentStep& step) {
  dispatch_floating(step.hidden.dtype(), "recurrent_step", [&](auto tag) {
    step_forward<typename decltype(tag)::type>(mode, step);
  });
}

void CpuBackend::recurrent_step_backward(RnnMode mode, const RecurrentStepGrad& step) {
  dispatch_floating(step.grad_hidden.dtype(), "recurrent_step_backward", [&](auto tag) {
    step_backward<typename decltype(tag)::type>(mode, step);
  });
}

void CpuBackend::embedding_backward(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices,
                                    int64_t padding_idx, bool scale_grad_by_freq) {
  const int64_t n = indices.numel(), dim = grad_weight.size(1);
  const int64_t* index = indices.data_ptr<int64_t>();
  std::vector<int64_t> counts;
  if (scale_grad_by_freq) {
    counts.assign(static_cast<size_t>(grad_weight.size(0)), 0);
    for (int64_t k = 0; k < n; ++k) ++counts[static_cast<size_t>(index[k])];
  }
  dispatch_floating(grad_weight.dtype(), "embedding_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = grad.data_ptr<T>();
    T* target = grad_weight.data_ptr<T>();
    // Each thread owns a range of columns, so rows repeating an index never race.
    parallel_ranges(dim, n * dim, [&](int64_t first, int64_t last) {
      for (int64_t k = 0; k < n; ++k) {
        const int64_t row = index[k];
        if (row == padding_idx) continue;
        const T scale = scale_grad_by_freq ? T(1) / static_cast<T>(counts[static_cast<size_t>(row)]) : T(1);
        const T* from = source + k * dim;
        T* to = target + row * dim;
        for (int64_t j = first; j < last; ++j) to[j] += from[j] * scale;
      }
    });
  });
}

}  // namespace tg::cpu
