// The CPU backend: every entry point of kernels/backend.h (which says what each does), defined in
// the kernels/cpu file of its family. Ops reach it through kernels::backend(); CPU kernels that
// need another entry point (a copy into a strided view) call cpu_backend directly.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tapegrad/kernels/backend.h"

namespace tg::cpu {

using kernels::BinaryOp;
using kernels::ClassLossTotals;
using kernels::ClassTarget;
using kernels::IndexOffsets;
using kernels::PointwiseLoss;
using kernels::ReduceOp;
using kernels::UnaryOp;
using kernels::UpstreamScale;

class CpuBackend final : public kernels::Backend {
 public:
  // copy.cpp
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, Scalar value) override;

  // elementwise.cpp
  void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) override;
  void unary(UnaryOp op, const Tensor& out, const Tensor& a) override;
  void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) override;
  void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) override;
  void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output) override;

  // activation.cpp
  void activation(kernels::Activation kind, const Tensor& out, const Tensor& a,
                  const kernels::ActivationParams& params) override;

  // index.cpp
  void index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets) override;
  void index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate) override;
  void add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride, int64_t dim,
                         const char* op) override;
  int64_t count_nonzero(const Tensor& self) override;
  void nonzero(const Tensor& out, const Tensor& self) override;

  // reduce.cpp
  void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) override;
  void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input,
                  int64_t dim) override;
  void softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log) override;
  void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim,
                        bool log) override;

  // matmul.cpp
  void matmul(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) override;

  // conv.cpp
  void conv2d(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
              const kernels::ConvGeometry& geometry) override;
  void conv2d_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                       const Tensor& grad, const Tensor& input, const Tensor& weight,
                       const kernels::ConvGeometry& geometry) override;

  // pool.cpp
  void pool2d(kernels::PoolKind kind, const Tensor& out, const Tensor& indices, const Tensor& input,
              const kernels::PoolWindows& windows) override;
  void pool2d_backward(kernels::PoolKind kind, const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                       const kernels::PoolWindows& windows) override;

  // creation.cpp
  void arange(const Tensor& out, Scalar start, Scalar step) override;
  void linspace(const Tensor& out, double start, double end) override;
  void eye(const Tensor& out) override;
  void manual_seed(uint64_t seed) override;
  uint64_t initial_seed() override;
  RngState get_rng_state() override;
  void set_rng_state(const RngState& state) override;
  void uniform(const Tensor& self, double low, double high) override;
  void normal(const Tensor& self, double mean, double std) override;
  void randint(const Tensor& self, int64_t low, int64_t high) override;
  void randperm(const Tensor& out) override;

  // loss.cpp
  double pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                        const Tensor& weight, const Tensor& pos_weight, double parameter) override;
  void pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target,
                               const Tensor& grad, UpstreamScale scale, const Tensor& input, const Tensor& target,
                               const Tensor& weight, const Tensor& pos_weight, double parameter) override;
  ClassLossTotals cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input,
                                const Tensor& target, const Tensor& weight, const ClassTarget& spec) override;
  void cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                              UpstreamScale scale, const Tensor& input, const Tensor& target, const Tensor& weight,
                              const Tensor& log_sum_exp, const ClassTarget& spec) override;
  ClassLossTotals nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                           const ClassTarget& spec) override;
  void nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale, const Tensor& target,
                         const Tensor& weight, const ClassTarget& spec) override;

  // optim.cpp
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options,
                bool first_step) override;
  void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                 const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options) override;
  void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                    const Tensor& momentum_buffer, const Tensor& step, const RmspropOptions& options) override;
  void adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, const Tensor& step,
                    const AdagradOptions& options) override;
  void adadelta_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& acc_delta,
                     const Tensor& step, const AdadeltaOptions& options) override;
  void adamax_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_inf,
                   const Tensor& step, const AdamaxOptions& options) override;
  void nadam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                  const Tensor& mu_product, const Tensor& step, const NadamOptions& options) override;

  // normalization.cpp
  void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& invstd, const Tensor& variance,
                  const Tensor& input, const Tensor& weight, const Tensor& bias, bool training, double eps) override;
  void batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                           const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& mean,
                           const Tensor& invstd, bool training) override;
  void row_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& input, const Tensor& weight,
                const Tensor& bias, const kernels::RowNormGeometry& geometry, double eps) override;
  void row_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                         const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, const kernels::RowNormGeometry& geometry) override;

  // recurrent.cpp
  void recurrent_step(RnnMode mode, const kernels::RecurrentStep& step) override;
  void recurrent_step_backward(RnnMode mode, const kernels::RecurrentStepGrad& step) override;
  void embedding_backward(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices, int64_t padding_idx,
                          bool scale_grad_by_freq) override;
  // creation.cpp (they draw from its generators)
  void multinomial(const Tensor& out, const Tensor& probabilities, bool replacement) override;
  void bernoulli(const Tensor& self, const Tensor& probabilities) override;
  // sort.cpp
  void sort(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim, bool descending) override;
  void topk(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, int64_t dim,
            bool largest) override;
  void cumulative(ReduceOp op, const Tensor& out, const Tensor& input, int64_t dim) override;
  void cumprod_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& input, int64_t dim) override;
  void triangle(const Tensor& out, const Tensor& input, int64_t diagonal, bool upper) override;
};

// The one instance (kernels/backend.cpp's table points at it). It holds no state: the random
// generator is creation.cpp's.
inline constinit CpuBackend cpu_backend;

}  // namespace tg::cpu
