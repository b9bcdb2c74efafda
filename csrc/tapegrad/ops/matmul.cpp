#include "tapegrad/ops/matmul.h"

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// The product of every dim but the last: the rows of a tensor, seen as one matrix.
int64_t leading_rows(const DimVector& sizes) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < sizes.size(); ++d) rows *= sizes[d];
  return rows;
}

// ---- checks ----------------------------------------------------------------------------------

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  TG_CHECK(a.device() == b.device(), op, "expected both tensors on the same device, got ",
           a.device().str(), " and ", b.device().str());
  TG_CHECK(a.dtype() == b.dtype(), op, "expected both operands to have the same dtype, got ",
           dtype_name(a.dtype()), " for shape ", a.sizes(), " and ", dtype_name(b.dtype()), " for shape ", b.sizes());
  if (a.dtype() == DType::Bool) fail<NotImplementedError>(op, "not implemented for bool tensors");
}

// Adds a·b straight onto the .grad of the leaf behind `edge` when AccumulateGrad accepts it: one
// GEMM with beta = 1 into a row-major .grad, or its transpose into a column-major one.
bool add_product_to_grad(const Edge& edge, const Tensor& a, const Tensor& b) {
  return AccumulateGrad::accumulate_in_place(edge, [&](const Tensor& grad) {
    if (grad.is_contiguous()) {
      kernels::backend("matmul", grad, a, b)->matmul(grad, a, b, /*accumulate=*/true);
      return true;
    }
    const Tensor grad_t = transpose(grad, 0, 1);
    if (!grad_t.is_contiguous()) return false;
    kernels::backend("matmul", grad, a, b)->matmul(grad_t, transpose(b, 0, 1), transpose(a, 0, 1), /*accumulate=*/true);
    return true;
  });
}

// ---- matmul and its backward -----------------------------------------------------------------

// A 1-D operand takes part as a one-row (left) or one-column (right) matrix, and that dim is
// missing from the output; backward puts it back on the gradient and takes it off again.
struct MatmulBackward final : Node {
  enum Slot { A, B };
  bool a_is_vector, b_is_vector;
  bool b_is_shared;  // b has at most 2 dims: every batch element of a meets the same matrix
  // b is a column-major matrix, typically a transposed weight (x @ w.t()). Its gradient is then
  // produced column-major too, so that after the transpose's backward it is contiguous like the
  // weight, and accumulating it into .grad reads memory in order (as PyTorch does).
  bool b_is_column_major;
  const char* node_name;
  MatmulBackward(bool a_vector, bool b_vector, bool b_shared, bool b_column_major, const char* name)
      : a_is_vector(a_vector), b_is_vector(b_vector), b_is_shared(b_shared),
        b_is_column_major(b_column_major), node_name(name) {}

  TensorList apply(TensorList&& grads) override {
    Tensor grad = grads[0];
    if (b_is_vector) grad = unsqueeze(grad, -1);
    if (a_is_vector) grad = unsqueeze(grad, -2);
    Tensor grad_a, grad_b;
    if (needs_input_grad(0)) {
      Tensor right = saved(B);
      if (b_is_vector) right = unsqueeze(right, -1);
      // Both operands are matrices (a 2-D gradient and no vector): a's gradient is one product.
      const bool one_product = grad.dim() == 2 && !a_is_vector && !b_is_vector;
      if (!one_product || !add_product_to_grad(next_edges()[0], grad, transpose(right, 0, 1))) {
        grad_a = matmul(grad, transpose(right, -1, -2));  // (batch..., m, k); the engine sums the batch
        if (a_is_vector) grad_a = squeeze(grad_a, {-2});
      }
    }
    if (needs_input_grad(1)) {
      Tensor left = saved(A);
      if (a_is_vector) left = unsqueeze(left, 0);
      const bool b_is_matrix = b_is_shared && !b_is_vector;
      if ((left.dim() > 2 && b_is_shared) || b_is_column_major || b_is_matrix) {
        // sum over the batch of a_i^T g_i is one GEMM over the batch stacked into rows, instead
        // of a batch of products summed afterwards.
        const int64_t rows = leading_rows(left.sizes());
        const Tensor stacked_left = reshape(left, {rows, left.size(-1)});
        const Tensor stacked_grad = reshape(grad, {rows, grad.size(-1)});
        if (!b_is_matrix || !add_product_to_grad(next_edges()[1], transpose(stacked_left, 0, 1), stacked_grad))
          grad_b = b_is_column_major ? transpose(matmul(transpose(stacked_grad, 0, 1), stacked_left), 0, 1)
                                     : matmul(transpose(stacked_left, 0, 1), stacked_grad);
      } else {
        grad_b = matmul(transpose(left, -1, -2), grad);
      }
      if (b_is_vector && grad_b.defined()) grad_b = squeeze(grad_b, {-1});
    }
    return {grad_a, grad_b};
  }
  std::string name() const override { return node_name; }
};

const char* matmul_node_name(int64_t a_dim, int64_t b_dim) {
  if (a_dim == 1 && b_dim == 1) return "DotBackward0";
  if (a_dim == 2 && b_dim == 1) return "MvBackward0";
  if (a_dim == 2 && b_dim == 2) return "MmBackward0";
  return "MatmulBackward0";
}

Tensor matmul_impl(const Tensor& a, const Tensor& b, const char* op, const char* node_name) {
  TG_CHECK(a.dim() >= 1 && b.dim() >= 1, op, "both arguments need to be at least 1-D, got shapes ",
           a.sizes(), " and ", b.sizes());
  check_operands(op, a, b);
  const bool a_is_vector = a.dim() == 1, b_is_vector = b.dim() == 1;
  const int64_t a_k = a.size(-1), b_k = b_is_vector ? b.size(0) : b.size(-2);
  TG_CHECK(a_k == b_k, op, "shapes ", a.sizes(), " and ", b.sizes(), " cannot be multiplied (", a_k,
           " != ", b_k, ")");

  Tensor out;
  {
    NoGradGuard no_grad;  // the views below are this op's plumbing, not graph nodes
    const Tensor left = a_is_vector ? unsqueeze(a, 0) : a;
    const Tensor right = b_is_vector ? unsqueeze(b, -1) : b;
    const DimVector left_batch(left.sizes().begin(), left.sizes().end() - 2);
    const DimVector right_batch(right.sizes().begin(), right.sizes().end() - 2);
    DimVector full = left_batch == right_batch ? left_batch : broadcast_shapes(left_batch, right_batch, op);
    DimVector shape = full;
    full.push_back(left.size(-2));
    full.push_back(right.size(-1));
    if (!a_is_vector) shape.push_back(left.size(-2));
    if (!b_is_vector) shape.push_back(right.size(-1));
    out = Tensor::empty(shape, a.dtype(), a.device(), op);
    kernels::backend("matmul", out, left, right)
        ->matmul(shape.size() == full.size() ? out : view(out, full), left, right, /*accumulate=*/false);
  }
  if (needs_grad(a, b)) {
    const bool b_column_major = b.dim() == 2 && b.stride(0) == 1 && b.stride(1) != 1 && b.size(1) > 1;
    auto node = make_node<MatmulBackward>(a_is_vector, b_is_vector, b.dim() <= 2, b_column_major,
                                          node_name);
    if (b.requires_grad()) node->save(MatmulBackward::A, a);
    if (a.requires_grad()) node->save(MatmulBackward::B, b);
    node->connect({&a, &b}, {&out});
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  return matmul_impl(a, b, "matmul", matmul_node_name(a.dim(), b.dim()));
}

Tensor mm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 2 && b.dim() == 2, "mm", "expected two 2-D tensors, got shapes ", a.sizes(), " and ", b.sizes());
  return matmul_impl(a, b, "mm", "MmBackward0");
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 3 && b.dim() == 3, "bmm", "expected two 3-D tensors, got shapes ", a.sizes(), " and ", b.sizes());
  TG_CHECK(a.size(0) == b.size(0), "bmm", "batch sizes differ: shapes ", a.sizes(), " and ", b.sizes(),
           " (bmm does not broadcast; use matmul)");
  return matmul_impl(a, b, "bmm", "BmmBackward0");
}

Tensor dot(const Tensor& a, const Tensor& b) {
  TG_CHECK(a.dim() == 1 && b.dim() == 1, "dot", "expected two 1-D tensors, got shapes ", a.sizes(), " and ", b.sizes());
  TG_CHECK(a.size(0) == b.size(0), "dot", "inconsistent tensor sizes: shapes ", a.sizes(), " and ", b.sizes());
  return matmul_impl(a, b, "dot", "DotBackward0");
}

int64_t matmul_work(const Tensor& a, const Tensor& b) {
  // numel(a)·n counts a's batch, numel(b)·m counts b's; the larger is the broadcast batch's.
  // In double: absurd shapes must not overflow, only compare large.
  const double n = b.dim() >= 2 ? static_cast<double>(b.size(-1)) : 1.0;
  const double m = a.dim() >= 2 ? static_cast<double>(a.size(-2)) : 1.0;
  const double work = std::max(static_cast<double>(a.numel()) * n, static_cast<double>(b.numel()) * m);
  return work >= 9e18 ? INT64_MAX : static_cast<int64_t>(work);
}

// ---- linear ----------------------------------------------------------------------------------

namespace {

struct LinearBackward final : Node {
  enum Slot { Input, Weight };
  bool has_bias;
  explicit LinearBackward(bool bias) : has_bias(bias) {}

  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    Tensor grad_input, grad_weight;
    if (needs_input_grad(0)) grad_input = matmul(grad, saved(Weight));  // (..., out)·(out, in): one GEMM
    if (needs_input_grad(1)) {
      // grad^T · input over all rows at once; the transpose is a view the GEMM reads by strides.
      const Tensor x = saved(Input);
      const int64_t rows = leading_rows(x.sizes());
      const Tensor grad_rows_t = transpose(reshape(grad, {rows, grad.size(-1)}), 0, 1);
      const Tensor x_rows = reshape(x, {rows, x.size(-1)});
      if (!add_product_to_grad(next_edges()[1], grad_rows_t, x_rows)) grad_weight = matmul(grad_rows_t, x_rows);
    }
    if (!has_bias) return {grad_input, grad_weight};
    // The bias's gradient is grad itself: the engine sums it over the rows it was broadcast to.
    return {grad_input, grad_weight, needs_input_grad(2) ? grad : Tensor()};
  }
  std::string name() const override { return has_bias ? "AddmmBackward0" : "MmBackward0"; }
};

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() == 1) {  // PyTorch allows a 1-D weight: a single output feature, dim dropped
    const Tensor product = matmul_impl(input, weight, "linear", matmul_node_name(input.dim(), 1));
    return bias.defined() ? add(product, bias) : product;
  }
  TG_CHECK(input.dim() >= 1, "linear", "input must have at least 1 dim, got shape ", input.sizes());
  TG_CHECK(weight.dim() == 2, "linear", "weight must be 1-D or 2-D, got shape ", weight.sizes());
  check_operands("linear", input, weight);
  const int64_t in_features = weight.size(1), out_features = weight.size(0);
  TG_CHECK(input.size(-1) == in_features, "linear", "input shape ", input.sizes(), " and weight shape ",
           weight.sizes(), " cannot be multiplied (", input.size(-1), " != ", in_features, ")");
  DimVector shape(input.sizes().begin(), input.sizes().end() - 1);
  shape.push_back(out_features);
  if (bias.defined()) {
    check_operands("linear", input, bias);
    bool broadcasts = bias.dim() <= static_cast<int64_t>(shape.size());
    for (int64_t d = 1; broadcasts && d <= bias.dim(); ++d)
      broadcasts = bias.size(-d) == 1 || bias.size(-d) == shape[shape.size() - d];
    TG_CHECK(broadcasts, "linear", "bias of shape ", bias.sizes(), " does not broadcast to the output shape ", shape);
  }

  Tensor out = Tensor::empty(shape, input.dtype(), input.device(), "linear");
  {
    NoGradGuard no_grad;
    const int64_t rows = leading_rows(input.sizes());
    // The bias goes in first and the GEMM adds the product onto it (beta = 1): no second pass.
    if (bias.defined()) kernels::backend("copy", out, bias)->copy(out, bias);
    kernels::backend("matmul", out, input, weight)
        ->matmul(view(out, {rows, out_features}), reshape(input, {rows, in_features}), transpose(weight, 0, 1),
                /*accumulate=*/bias.defined());
  }
  if (needs_grad(input, weight) || (bias.defined() && needs_grad(bias))) {
    auto node = make_node<LinearBackward>(bias.defined());
    if (weight.requires_grad()) node->save(LinearBackward::Input, input);
    if (input.requires_grad()) node->save(LinearBackward::Weight, weight);
    if (bias.defined()) node->connect({&input, &weight, &bias}, {&out});
    else node->connect({&input, &weight}, {&out});
  }
  return out;
}

// ---- einsum ----------------------------------------------------------------------------------

namespace {

// Subscripts are small integers: letters A-Z, a-z as 0..51 (so sorting them gives the implicit
// output's order), and the dims an ellipsis covers as kEllipsis + position, aligned from the right
// across operands like broadcast dims.
constexpr int kEllipsis = 64;

struct Term {
  Tensor tensor;
  std::vector<int> labels;  // one per dim, distinct
};

struct Subscripts {
  std::vector<int> labels;
  bool has_ellipsis = false;
  size_t ellipsis_at = 0;  // where "..." sits among the labels
};

[[noreturn]] void einsum_fail(const std::string& equation, const std::string& why) {
  fail<Error>("einsum", "equation '", equation, "': ", why);
}

Subscripts parse_subscripts(const std::string& text, const std::string& equation) {
  Subscripts parsed;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= 'A' && c <= 'Z') {
      parsed.labels.push_back(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      parsed.labels.push_back(26 + c - 'a');
    } else if (c == '.') {
      if (parsed.has_ellipsis || text.compare(i, 3, "...") != 0) einsum_fail(equation, "'.' must come as one '...'");
      parsed.has_ellipsis = true;
      parsed.ellipsis_at = parsed.labels.size();
      i += 2;
    } else if (c != ' ') {
      einsum_fail(equation, std::string("invalid subscript '") + c + "': subscripts must be letters");
    }
  }
  return parsed;
}

char label_char(int label) { return static_cast<char>(label < 26 ? 'A' + label : 'a' + label - 26); }

// Sums `term` over the listed labels (integers to int64, as sum and PyTorch's einsum do).
Term sum_labels(Term term, const std::vector<int>& drop) {
  DimVector dims;
  std::vector<int> kept;
  for (size_t d = 0; d < term.labels.size(); ++d) {
    if (std::find(drop.begin(), drop.end(), term.labels[d]) != drop.end()) dims.push_back(static_cast<int64_t>(d));
    else kept.push_back(term.labels[d]);
  }
  if (dims.empty()) return term;
  return {sum(term.tensor, dims, false), kept};
}

// Makes the labels of `labels`/`tensor` distinct by taking diagonals: a label repeated in one
// operand ("ii") walks both dims at once, which is one strided view.
Term take_diagonals(const Tensor& tensor, const std::vector<int>& labels, const std::string& equation) {
  std::vector<int> distinct;
  for (int label : labels)
    if (std::find(distinct.begin(), distinct.end(), label) == distinct.end()) distinct.push_back(label);
  if (distinct.size() == labels.size()) return {tensor, labels};
  const Tensor base = contiguous(tensor);  // as_strided is differentiable from a contiguous base
  DimVector sizes(distinct.size(), -1), strides(distinct.size(), 0);
  for (size_t d = 0; d < labels.size(); ++d) {
    const size_t at = std::find(distinct.begin(), distinct.end(), labels[d]) - distinct.begin();
    if (sizes[at] != -1 && sizes[at] != base.size(d))
      einsum_fail(equation, std::string("subscript '") + label_char(labels[d]) + "' is repeated in one operand for dims of sizes " +
                                std::to_string(sizes[at]) + " and " + std::to_string(base.size(d)));
    sizes[at] = base.size(d);
    strides[at] += base.stride(d);
  }
  return {as_strided(base, sizes, strides, base.storage_offset()), distinct};
}

bool contains(const std::vector<int>& labels, int label) {
  return std::find(labels.begin(), labels.end(), label) != labels.end();
}

// left·right as one batched matmul, keeping the labels in `keep` and summing the others.
Term contract(Term left, Term right, const std::vector<int>& keep, const std::string& equation) {
  std::vector<int> left_only_drop, right_only_drop;
  for (int label : left.labels)
    if (!contains(right.labels, label) && !contains(keep, label)) left_only_drop.push_back(label);
  for (int label : right.labels)
    if (!contains(left.labels, label) && !contains(keep, label)) right_only_drop.push_back(label);
  // A shared, summed label where one side has size 1 is broadcast: sum each side on its own.
  for (size_t d = 0; d < left.labels.size(); ++d) {
    const int label = left.labels[d];
    const auto at = std::find(right.labels.begin(), right.labels.end(), label);
    if (at == right.labels.end()) continue;
    const int64_t left_size = left.tensor.size(d), right_size = right.tensor.size(at - right.labels.begin());
    if (left_size == right_size) continue;
    if (left_size != 1 && right_size != 1)
      einsum_fail(equation, std::string("subscript '") + label_char(label) + "' has size " + std::to_string(left_size) +
                                " in one operand and " + std::to_string(right_size) + " in another");
    if (!contains(keep, label)) {
      left_only_drop.push_back(label);
      right_only_drop.push_back(label);
    }
  }
  left = sum_labels(std::move(left), left_only_drop);
  right = sum_labels(std::move(right), right_only_drop);
  // An integer side that was summed is int64 now: the product takes the wider dtype.
  const DType dtype = promote_types(left.tensor.dtype(), right.tensor.dtype());
  left.tensor = to_dtype(left.tensor, dtype);
  right.tensor = to_dtype(right.tensor, dtype);

  std::vector<int> batch, rows, depth, cols;
  for (int label : left.labels) {
    if (contains(right.labels, label)) (contains(keep, label) ? batch : depth).push_back(label);
    else rows.push_back(label);
  }
  for (int label : right.labels)
    if (!contains(left.labels, label)) cols.push_back(label);

  // Lay each side out as (batch..., rows, depth) and (batch..., depth, cols), each group flattened.
  const auto arrange = [](const Term& term, const std::vector<int>& batch_labels, const std::vector<int>& first,
                          const std::vector<int>& second, DimVector* batch_sizes, DimVector* first_sizes,
                          DimVector* second_sizes) {
    DimVector order, shape;
    const auto position = [&](int label) {
      return static_cast<int64_t>(std::find(term.labels.begin(), term.labels.end(), label) - term.labels.begin());
    };
    for (int label : batch_labels) {
      order.push_back(position(label));
      batch_sizes->push_back(term.tensor.size(order.back()));
      shape.push_back(batch_sizes->back());
    }
    int64_t first_total = 1, second_total = 1;
    for (int label : first) {
      order.push_back(position(label));
      first_sizes->push_back(term.tensor.size(order.back()));
      first_total *= first_sizes->back();
    }
    for (int label : second) {
      order.push_back(position(label));
      second_sizes->push_back(term.tensor.size(order.back()));
      second_total *= second_sizes->back();
    }
    shape.push_back(first_total);
    shape.push_back(second_total);
    return reshape(permute(term.tensor, order), shape);
  };
  DimVector left_batch, right_batch, row_sizes, col_sizes, depth_sizes, unused;
  const Tensor left_matrix = arrange(left, batch, rows, depth, &left_batch, &row_sizes, &depth_sizes);
  const Tensor right_matrix = arrange(right, batch, depth, cols, &right_batch, &unused, &col_sizes);
  const Tensor product = matmul(left_matrix, right_matrix);

  DimVector shape(product.sizes().begin(), product.sizes().end() - 2);
  std::vector<int> labels = batch;
  for (int64_t size : row_sizes) shape.push_back(size);
  for (int64_t size : col_sizes) shape.push_back(size);
  labels.insert(labels.end(), rows.begin(), rows.end());
  labels.insert(labels.end(), cols.begin(), cols.end());
  return {reshape(product, shape), labels};
}

// The labels of a term's dims: its subscripts with "..." standing for `covered` dims, the last
// `covered` of the `ellipsis_dims` every operand's "..." is aligned to from the right.
std::vector<int> expand_ellipsis(const Subscripts& parsed, int64_t covered, int64_t ellipsis_dims) {
  const auto ellipsis_at = parsed.labels.begin() + static_cast<std::ptrdiff_t>(parsed.has_ellipsis ? parsed.ellipsis_at
                                                                                                   : parsed.labels.size());
  std::vector<int> labels(parsed.labels.begin(), ellipsis_at);
  for (int64_t j = 0; j < covered; ++j) labels.push_back(kEllipsis + static_cast<int>(ellipsis_dims - covered + j));
  labels.insert(labels.end(), ellipsis_at, parsed.labels.end());
  return labels;
}

// The input side of an equation, checked against the operands: each operand's subscripts as
// written, its labels (one per dim, "..." expanded), and how many dims the widest "..." covers.
struct EinsumInputs {
  std::vector<Subscripts> subscripts;
  std::vector<std::vector<int>> labels;
  int64_t ellipsis_dims = 0;
};

EinsumInputs parse_inputs(const std::string& equation, const std::vector<Tensor>& operands) {
  EinsumInputs parsed;
  const std::string inputs = equation.substr(0, equation.find("->"));
  for (size_t start = 0;;) {
    const size_t comma = inputs.find(',', start);
    parsed.subscripts.push_back(parse_subscripts(inputs.substr(start, comma - start), equation));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parsed.subscripts.size() != operands.size())
    einsum_fail(equation, "it names " + std::to_string(parsed.subscripts.size()) + " operands but " +
                              std::to_string(operands.size()) + " were given");
  for (size_t i = 0; i < operands.size(); ++i) {
    const int64_t named = static_cast<int64_t>(parsed.subscripts[i].labels.size());
    const int64_t covered = operands[i].dim() - named;
    if (parsed.subscripts[i].has_ellipsis ? covered < 0 : covered != 0) {
      std::ostringstream message;
      message << "operand " << i << " has shape " << operands[i].sizes() << " but its subscripts name " << named << " dims";
      einsum_fail(equation, message.str());
    }
    parsed.ellipsis_dims = std::max(parsed.ellipsis_dims, covered);
  }
  for (size_t i = 0; i < operands.size(); ++i) {
    const int64_t covered = operands[i].dim() - static_cast<int64_t>(parsed.subscripts[i].labels.size());
    parsed.labels.push_back(expand_ellipsis(parsed.subscripts[i], covered, parsed.ellipsis_dims));
  }
  return parsed;
}

}  // namespace

int64_t einsum_work(const std::string& equation, const std::vector<Tensor>& operands) {
  const EinsumInputs parsed = parse_inputs(equation, operands);
  std::vector<int64_t> label_sizes(kEllipsis + static_cast<size_t>(parsed.ellipsis_dims), 0);
  for (size_t i = 0; i < operands.size(); ++i)
    for (size_t d = 0; d < parsed.labels[i].size(); ++d) {
      int64_t& size = label_sizes[static_cast<size_t>(parsed.labels[i][d])];
      size = std::max(size, operands[i].size(static_cast<int64_t>(d)));
    }
  double work = 1;
  for (int64_t size : label_sizes) work *= size > 0 ? static_cast<double>(size) : 1.0;
  return work >= 9e18 ? INT64_MAX : static_cast<int64_t>(work);
}

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  const size_t arrow = equation.find("->");
  const EinsumInputs parsed = parse_inputs(equation, operands);
  const int64_t ellipsis_dims = parsed.ellipsis_dims;
  std::vector<Term> terms;
  for (size_t i = 0; i < operands.size(); ++i) {
    TG_CHECK(i == 0 || operands[i].dtype() == operands[0].dtype(), "einsum", "expected operands of one dtype, got ",
             dtype_name(operands[0].dtype()), " and ", dtype_name(operands[i].dtype()));
    terms.push_back(take_diagonals(operands[i], parsed.labels[i], equation));
  }

  // The output: as written, or in implicit mode the ellipsis dims then every letter used once,
  // in alphabetical order (upper case first), as in PyTorch.
  std::vector<int> output;
  if (arrow != std::string::npos) {
    const Subscripts written = parse_subscripts(equation.substr(arrow + 2), equation);
    output = expand_ellipsis(written, written.has_ellipsis ? ellipsis_dims : 0, ellipsis_dims);
    for (size_t i = 0; i < output.size(); ++i) {
      if (std::count(output.begin(), output.end(), output[i]) > 1)
        einsum_fail(equation, std::string("output subscript '") + label_char(output[i]) + "' appears more than once");
      bool found = false;
      for (const Term& term : terms) found = found || contains(term.labels, output[i]);
      if (!found) einsum_fail(equation, std::string("output subscript '") + label_char(output[i]) + "' is not in any input");
    }
  } else {
    for (int64_t j = 0; j < ellipsis_dims; ++j) output.push_back(kEllipsis + static_cast<int>(j));
    for (int label = 0; label < 52; ++label) {
      int64_t uses = 0;
      for (const Subscripts& written : parsed.subscripts)
        uses += std::count(written.labels.begin(), written.labels.end(), label);
      if (uses == 1) output.push_back(label);
    }
  }

  // Left to right: each step keeps the labels the output or a later operand still needs.
  Term result = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    std::vector<int> keep = output;
    for (size_t later = i + 1; later < terms.size(); ++later)
      keep.insert(keep.end(), terms[later].labels.begin(), terms[later].labels.end());
    result = contract(std::move(result), terms[i], keep, equation);
  }
  std::vector<int> drop;
  for (int label : result.labels)
    if (!contains(output, label)) drop.push_back(label);
  result = sum_labels(std::move(result), drop);
  DimVector order;
  for (int label : output)
    order.push_back(std::find(result.labels.begin(), result.labels.end(), label) - result.labels.begin());
  return permute(result.tensor, order);
}

}  // namespace tg
