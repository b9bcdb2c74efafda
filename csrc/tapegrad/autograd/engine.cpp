// The backward pass, in three steps and without recursion:
//  1. Walk the graph from the roots once (explicit stack) and count, for each node, how many edges
//     point at it: a node may run only after every consumer of its outputs has sent its gradient.
//  2. Seed the roots' input buffers, then repeatedly run the ready node with the highest sequence
//     number (the newest op first: the tape in reverse). Gradients meeting at one input are summed
//     (the multivariate chain rule); a broadcast gradient is reduced to the shape its node expects.
//  3. Leaves receive their gradient through their AccumulateGrad node, which writes .grad.
#include "tapegrad/autograd/engine.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "tapegrad/core/shape.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"

namespace tg::autograd {

namespace {

struct NodeState {
  int dependencies = 0;
  TensorList input_buffer;
  bool captured = false;  // for grad(): a requested input's gradient arrives here
  bool needed = false;    // for grad(): some requested input lies below this node
};

struct NewestFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr() < b->sequence_nr(); }
};

// Brings the gradient `producer` returned for its input `index` to the shape and dtype the
// receiving node expects for that slot: a broadcast gradient is summed back (sum_to), any other
// shape is the producer's error (PyTorch's validate_outputs). Root seeds (no producer) are checked
// by root_edges_and_seeds.
Tensor conform(Tensor grad, const OutputMeta& expected, const Node* producer, size_t index) {
  if (grad.sizes() != expected.sizes) {
    TG_CHECK(broadcasts_to(expected.sizes, grad.sizes()), "backward", "Function ",
             producer ? producer->name() : std::string("backward"), " returned an invalid gradient at index ", index,
             " - got ", grad.sizes(), " but expected shape compatible with ", expected.sizes);
    grad = sum_to(grad, expected.sizes);
  }
  if (grad.dtype() != expected.dtype) grad = to_dtype(grad, expected.dtype);
  return grad;
}

void accumulate_into(TensorList& buffer, size_t slot, Tensor grad) {
  if (!buffer[slot].defined()) buffer[slot] = std::move(grad);
  else buffer[slot] = add(buffer[slot], grad);
}

class GraphTask {
 public:
  GraphTask(bool keep_graph, bool create_graph, bool accumulate)
      : keep_graph_(keep_graph), create_graph_(create_graph), accumulate_(accumulate) {}

  // The engine core; `captures` are the edges whose incoming gradient grad() returns.
  TensorList run(const std::vector<Edge>& root_edges, TensorList root_grads, const std::vector<Edge>& captures) {
    GradModeGuard grad_mode(create_graph_);
    AccumulateGrad::InPlaceScope in_place(accumulate_ && !create_graph_);
    count_dependencies(root_edges);
    if (!accumulate_) mark_needed(captures);

    std::priority_queue<Node*, std::vector<Node*>, NewestFirst> ready;
    for (size_t i = 0; i < root_edges.size(); ++i) {
      const Edge& edge = root_edges[i];
      NodeState& state = states_[edge.node.get()];
      accumulate_into(state.input_buffer, edge.input_nr,
                      conform(std::move(root_grads[i]), edge.node->output_meta()[edge.input_nr], nullptr, i));
    }
    for (const Edge& edge : root_edges) {
      NodeState& state = states_[edge.node.get()];
      if (state.dependencies == 0 && !state.input_buffer.empty()) {
        ready.push(edge.node.get());
        state.dependencies = -1;  // queued once even if it is the root of several edges
      }
    }

    TensorList captured(captures.size());
    while (!ready.empty()) {
      Node* node = ready.top();
      ready.pop();
      NodeState& state = states_[node];
      TensorList grads = std::move(state.input_buffer);

      for (uint32_t slot = 0; slot < grads.size(); ++slot) node->run_output_hooks(slot, grads[slot]);
      auto* accumulator = dynamic_cast<AccumulateGrad*>(node);
      for (size_t i = 0; i < captures.size(); ++i) {
        if (captures[i].node.get() != node || !grads[captures[i].input_nr].defined()) continue;
        Tensor grad = grads[captures[i].input_nr];
        if (accumulator) accumulator->run_leaf_hooks(grad);
        captured[i] = grad;
      }

      const bool run_node = accumulate_ ? true : (state.needed && !accumulator);
      const bool has_grad = std::any_of(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
      TensorList input_grads;
      if (run_node && has_grad) {
        input_grads = (*node)(std::move(grads));
        if (!keep_graph_) node->release_saved();
      }

      const std::vector<Edge>& edges = node->next_edges();
      for (size_t i = 0; i < edges.size(); ++i) {
        const Edge& edge = edges[i];
        if (!edge.is_valid()) continue;
        NodeState& next = states_[edge.node.get()];
        if (i < input_grads.size() && input_grads[i].defined())
          accumulate_into(next.input_buffer, edge.input_nr,
                          conform(std::move(input_grads[i]), edge.node->output_meta()[edge.input_nr], node, i));
        if (--next.dependencies == 0) ready.push(edge.node.get());
      }
    }
    return captured;
  }

 private:
  void count_dependencies(const std::vector<Edge>& root_edges) {
    std::vector<Node*> stack;
    for (const Edge& edge : root_edges) {
      auto [it, inserted] = states_.try_emplace(edge.node.get());
      if (inserted) stack.push_back(edge.node.get());
    }
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      NodeState& state = states_[node];
      state.input_buffer.resize(node->num_outputs());
      for (const Edge& edge : node->next_edges()) {
        if (!edge.is_valid()) continue;
        auto [it, inserted] = states_.try_emplace(edge.node.get());
        ++it->second.dependencies;
        if (inserted) stack.push_back(edge.node.get());
      }
    }
  }

  // A node is needed when a captured edge points at a node below it. Children are older (smaller
  // sequence numbers) than their parents, so visiting nodes oldest first settles every child before
  // its parents, without recursion. The exception, AccumulateGrad (numbered highest), has no edges:
  // whether it is captured is known before the walk.
  void mark_needed(const std::vector<Edge>& captures) {
    for (const Edge& edge : captures) {
      auto it = states_.find(edge.node.get());
      if (it != states_.end()) it->second.captured = true;
    }
    std::vector<Node*> nodes;
    nodes.reserve(states_.size());
    for (auto& [node, state] : states_) nodes.push_back(node);
    std::sort(nodes.begin(), nodes.end(), [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); });
    for (Node* node : nodes) {
      NodeState& state = states_[node];
      for (const Edge& edge : node->next_edges()) {
        if (!edge.is_valid()) continue;
        const NodeState& child = states_[edge.node.get()];
        if (child.captured || child.needed) state.needed = true;
      }
    }
  }

  std::unordered_map<Node*, NodeState> states_;
  bool keep_graph_;
  bool create_graph_;
  bool accumulate_;
};

// Checks the roots and builds their seed gradients.
std::vector<Edge> root_edges_and_seeds(const TensorList& roots, const TensorList& grad_roots, TensorList& seeds) {
  TG_CHECK(grad_roots.empty() || grad_roots.size() == roots.size(), "backward", "got ", roots.size(),
           " tensors but ", grad_roots.size(), " gradients");
  std::vector<Edge> edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    TG_CHECK(root.requires_grad(), "backward", "element ", i,
             " of tensors does not require grad and does not have a grad_fn");
    Tensor seed = i < grad_roots.size() ? grad_roots[i] : Tensor();
    if (!seed.defined()) {
      TG_CHECK(root.numel() == 1, "backward", "grad can be implicitly created only for scalar outputs; got shape ",
               root.sizes(), ". Pass gradient= with that shape.");
      seed = ones_like(root);
    } else {
      TG_CHECK(seed.sizes() == root.sizes(), "backward", "gradient has shape ", seed.sizes(),
               " but the tensor has shape ", root.sizes());
    }
    edges.push_back(gradient_edge(root));
    seeds.push_back(std::move(seed));
  }
  return edges;
}

}  // namespace

void backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph, bool create_graph) {
  TensorList seeds;
  std::vector<Edge> edges = root_edges_and_seeds(roots, grad_roots, seeds);
  GraphTask(keep_graph, create_graph, /*accumulate=*/true).run(edges, std::move(seeds), {});
}

TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs, bool keep_graph,
                bool create_graph, bool allow_unused) {
  TensorList seeds;
  std::vector<Edge> edges = root_edges_and_seeds(roots, grad_roots, seeds);
  std::vector<Edge> captures;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TG_CHECK(inputs[i].requires_grad(), "grad", "input ", i, " does not require grad");
    captures.push_back(gradient_edge(inputs[i]));
  }
  TensorList result = GraphTask(keep_graph, create_graph, /*accumulate=*/false).run(edges, std::move(seeds), captures);
  for (size_t i = 0; i < result.size(); ++i)
    TG_CHECK(result[i].defined() || allow_unused, "grad", "input ", i,
             " was not used in the graph (or got no gradient); pass allow_unused=True if this is intended");
  return result;
}

}  // namespace tg::autograd
