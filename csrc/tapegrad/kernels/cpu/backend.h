// The CPU backend: one function per kernels:: entry point, with the same signature and contract
// (kernels.h and its family headers say what each does). kernels/dispatch.cpp calls these for
// tensors on the CPU; nothing else should, so that every op reaches them through the dispatch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tapegrad/kernels/creation.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/kernels/loss.h"
#include "tapegrad/kernels/matmul.h"
#include "tapegrad/kernels/optim.h"

namespace tg::cpu {

using kernels::BinaryOp;
using kernels::ClassLossTotals;
using kernels::ClassTarget;
using kernels::IndexOffsets;
using kernels::PointwiseLoss;
using kernels::ReduceOp;
using kernels::UnaryOp;
using kernels::UpstreamScale;

// copy.cpp
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);

// elementwise.cpp
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary(UnaryOp op, const Tensor& out, const Tensor& a);
void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);
void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output);

// index.cpp
void index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets);
void index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate);
void add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride, int64_t dim,
                       const char* op);
int64_t count_nonzero(const Tensor& self);
void nonzero(const Tensor& out, const Tensor& self);

// reduce.cpp
void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced);
void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim);
void softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log);
void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim, bool log);

// matmul.cpp
void matmul(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate);

// creation.cpp
void arange(const Tensor& out, Scalar start, Scalar step);
void linspace(const Tensor& out, double start, double end);
void eye(const Tensor& out);
void manual_seed(uint64_t seed);
uint64_t initial_seed();
RngState get_rng_state();
void set_rng_state(const RngState& state);
void uniform(const Tensor& self, double low, double high);
void normal(const Tensor& self, double mean, double std);
void randint(const Tensor& self, int64_t low, int64_t high);
void randperm(const Tensor& out);

// loss.cpp
double pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                      const Tensor& weight, const Tensor& pos_weight);
void pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                             UpstreamScale scale, const Tensor& input, const Tensor& target, const Tensor& weight,
                             const Tensor& pos_weight);
ClassLossTotals cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input, const Tensor& target,
                              const Tensor& weight, const ClassTarget& spec);
void cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad, UpstreamScale scale,
                            const Tensor& input, const Tensor& target, const Tensor& weight, const Tensor& log_sum_exp,
                            const ClassTarget& spec);
ClassLossTotals nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                         const ClassTarget& spec);
void nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale, const Tensor& target,
                       const Tensor& weight, const ClassTarget& spec);

// optim.cpp
void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options,
              bool first_step);
void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options);

}  // namespace tg::cpu
