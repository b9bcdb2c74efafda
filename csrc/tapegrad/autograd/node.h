// The tape's pieces, named as in PyTorch so its documentation explains ours:
//   Node         one recorded op; apply() maps the gradients of its outputs to those of its inputs
//   Edge         (node, input_nr): where a gradient flows next
//   saved        tensors kept for backward (Node::save, Node::saved), each with the version it had
//                when it was saved; the node owns them, in numbered slots, and frees them itself
// A Node's next_edges() has one entry per differentiable input of the forward op, in order.
#pragma once

#include <array>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/autograd/anomaly_mode.h"
#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/variable.h"
#include "tapegrad/core/tensor.h"

namespace tg {

using TensorList = std::vector<Tensor>;

struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  bool is_valid() const { return node != nullptr; }
};

// What the gradient of one forward output must look like: the engine reduces broadcast gradients
// to this shape (sum_to) and casts them to this dtype, in one place, before a node sees them.
struct OutputMeta {
  DimVector sizes;
  DType dtype;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Gradients of the forward outputs in (undefined where none arrived), gradients of the forward
  // inputs out (undefined where an input needs none). Runs with grad mode on only under
  // create_graph, so formulas written with tapegrad ops give higher-order gradients for free.
  virtual TensorList apply(TensorList&& grad_outputs) = 0;
  virtual std::string name() const = 0;
  // What the engine calls: apply(), as a profiler range named after the node while a profiler
  // runs, and with its gradients checked for NaN in anomaly mode (the error names this node, the
  // output, and the forward stack that made the node).
  TensorList operator()(TensorList&& grad_outputs);
  // Frees the saved tensors after a backward without retain_graph. A node that saved nothing can
  // run again (as in PyTorch); one that did raises from saved(), naming retain_graph.
  void release_saved();

  // Keeps `tensor` for backward in `slot` (each node numbers its own slots); an undefined tensor
  // (an optional argument left out) saves nothing. `is_output`: `tensor` is an output of this node.
  void save(size_t slot, const Tensor& tensor, bool is_output = false);
  // The tensor saved in `slot`, undefined where none was. Raises (naming this node) where it was
  // freed by a backward without retain_graph, or modified in place since it was saved.
  Tensor saved(size_t slot);
  // What the node holds for backward, for looking at (tapegrad.viz): no version check, nothing
  // for a slot never saved or already released.
  TensorList saved_for_inspection() const;

  // In anomaly mode, where the forward pass made this node (make_node records it); empty otherwise.
  const std::string& forward_stack() const;
  void remember_forward_stack();

  uint64_t sequence_nr() const { return sequence_nr_; }
  std::vector<Edge>& next_edges() { return next_edges_; }
  const std::vector<Edge>& next_edges() const { return next_edges_; }
  const std::vector<OutputMeta>& output_meta() const { return output_meta_; }
  size_t num_outputs() const { return output_meta_.size(); }
  // True when the gradient of forward input i is wanted: skip computing it otherwise.
  bool needs_input_grad(size_t i) const { return i < next_edges_.size() && next_edges_[i].is_valid(); }

  // Hooks on a non-leaf tensor (this node's output output_nr), by the id register_hook gave them,
  // and retain_grad() targets.
  void add_output_hook(uint32_t output_nr, uint64_t hook_id, TensorHook hook);
  void remove_output_hook(uint64_t hook_id);
  void retain_output_grad(uint32_t output_nr, const std::shared_ptr<TensorImpl>& tensor);
  // Runs those hooks on the gradient arriving for output output_nr, then fills retained grads.
  void run_output_hooks(uint32_t output_nr, Tensor& grad);
  bool has_output_hooks() const { return !output_hooks_.empty() || !retained_outputs_.empty(); }

  // Wires this node into the graph: its next edges from `inputs` (set_next_edges), and it becomes
  // the grad_fn of `outputs` (their output_nr is their position).
  void connect(std::initializer_list<const Tensor*> inputs, std::initializer_list<Tensor*> outputs);
  void connect(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs);
  // Sets the edges and numbers the node. It is numbered only now, because collecting an edge may
  // create a node (a leaf's first AccumulateGrad, a stale view's new grad_fn): numbered after its
  // edges, every node is newer than the nodes it feeds, which the engine relies on.
  void set_next_edges(std::vector<Edge> edges);
  void add_output(Tensor& output);

 protected:
  // The gradient expected for the next forward output, without making this node its grad_fn.
  void add_output_meta(const Tensor& output) { output_meta_.push_back({output.sizes(), output.dtype()}); }
  void add_output_meta(OutputMeta meta) { output_meta_.push_back(std::move(meta)); }
  // For a node whose backward runs `inner`'s formula (CopySlices): inner's saved tensors are
  // released with this node's. `inner` must live as long as this node.
  void release_saved_with(Node& inner) { releases_with_ = &inner; }
  // For a sink (AccumulateGrad): the highest number, so the engine runs it as soon as its gradient is
  // complete, as PyTorch does. Numbered by creation, a leaf's long-lived sink would wait for every
  // newer node, which holds .grad (and the post-accumulate hooks data-parallel training starts
  // communicating from) until the end of backward.
  void number_as_sink() { sequence_nr_ = std::numeric_limits<uint64_t>::max(); }

 private:
  std::vector<Edge> next_edges_;
  std::vector<OutputMeta> output_meta_;
  struct OutputHook {
    uint32_t output_nr;
    uint64_t id;
    TensorHook hook;
  };
  std::vector<OutputHook> output_hooks_;
  std::vector<std::pair<uint32_t, std::weak_ptr<TensorImpl>>> retained_outputs_;
  // One slot of save()/saved().
  class SavedTensor {
   public:
    SavedTensor() = default;
    // `is_output`: the tensor is an output of the node that saves it. It is then kept without its
    // grad_fn (which would be a reference cycle) and given it back on unpack.
    SavedTensor(const Tensor& tensor, bool is_output);
    // The saved tensor, or a RuntimeError if it was freed by a backward without retain_graph or
    // modified in place since it was saved (the message names `owner` and both versions).
    Tensor unpack(Node& owner) const;
    void release() { data_ = Tensor(); released_ = true; }
    const Tensor& data() const { return data_; }

   private:
    Tensor data_;
    uint32_t saved_version_ = 0;
    uint32_t output_nr_ = 0;
    bool is_output_ = false;
    bool requires_grad_ = false;
    bool released_ = false;
  };
  SavedTensor& saved_slot(size_t slot) {
    return slot < kInlineSlots ? inline_saved_[slot] : more_saved_[slot - kInlineSlots];
  }
  const SavedTensor& saved_slot(size_t slot) const {
    return slot < kInlineSlots ? inline_saved_[slot] : more_saved_[slot - kInlineSlots];
  }
  // The first two slots (all that most nodes use) live in the node, so that saving allocates
  // nothing; further ones in more_saved_. Slots from saved_count_ on were never saved.
  static constexpr size_t kInlineSlots = 2;
  std::array<SavedTensor, kInlineSlots> inline_saved_;
  std::vector<SavedTensor> more_saved_;
  size_t saved_count_ = 0;
  Node* releases_with_ = nullptr;
  std::unique_ptr<std::string> forward_stack_;  // anomaly mode only
  uint64_t sequence_nr_;
};

// Nodes are destroyed through this, which defers nested destructions to a loop: freeing the last
// reference to a chain of a million nodes must not recurse a million frames deep.
void delete_node(Node* node);

template <typename N, typename... Args>
std::shared_ptr<N> make_node(Args&&... args) {
  std::shared_ptr<N> node(new N(std::forward<Args>(args)...), [](N* node) { delete_node(node); });
  if (AnomalyMode::is_enabled()) [[unlikely]]
    node->remember_forward_stack();
  return node;
}

// True when an op on these inputs must be recorded: grad mode is on and one of them requires grad.
template <typename... Ts>
bool needs_grad(const Ts&... inputs) {
  return GradMode::is_enabled() && (inputs.requires_grad() || ...);
}
bool any_needs_grad(const std::vector<Tensor>& inputs);

// Where a tensor's gradient goes: its grad_fn for a non-leaf, its accumulate-grad sink for a leaf
// that requires grad, nowhere otherwise.
Edge gradient_edge(const Tensor& tensor);

// What register_hook hands back (PyTorch's RemovableHandle): remove() takes the hook off the leaf or
// node it was registered on, if that still exists; the handle keeps neither alive.
class HookHandle {
 public:
  HookHandle(const Tensor& tensor, uint64_t id);
  void remove() const;
  uint64_t id() const { return id_; }

 private:
  std::weak_ptr<TensorImpl> leaf_;
  std::weak_ptr<Node> node_;
  uint64_t id_;
};

// The leaf's sink, writing (accumulating) into .grad. The leaf keeps it from its first use on (a new
// one per graph cost as much as recording an op) and it refers to the leaf weakly, so there is no
// cycle: a graph that outlives its leaf delivers that gradient nowhere, where nothing could see it.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const Tensor& variable);
  TensorList apply(TensorList&& grad_outputs) override;
  std::string name() const override { return "AccumulateGrad"; }
  // The leaf's own hooks, run on a gradient before it is accumulated or captured.
  void run_leaf_hooks(Tensor& grad) const;
  // The leaf this sink writes to (undefined once it is gone), as PyTorch's AccumulateGrad.variable.
  Tensor variable() const;

  // The one way around the engine's buffers: a formula whose gradient for the input behind `edge`
  // is a product can add it onto that leaf's existing .grad itself (a GEMM with beta = 1), instead
  // of returning a fresh gradient-sized tensor for apply() to add_. In a gradient-accumulation loop
  // (784-128-10 MLP, 4 micro-batches a step, one thread, bench/grad_accumulation.py) it takes a
  // micro-batch from 77-82 µs to 52-58 at batch 1 and from 226-229 to 191-210 at batch 32 (three
  // runs each way, back to back). `add_into(grad)` does the writing and may decline (a layout
  // it cannot write). Taken only where nobody could tell the difference: during backward() (never
  // grad()) without create_graph, `edge` the sink's only edge, .grad already there, shaped and
  // typed as the leaf and not requiring grad, and no leaf hooks to show the gradient to; the
  // post-accumulate hooks run as apply() would run them. Returns whether the gradient was added.
  static bool accumulate_in_place(const Edge& edge, const std::function<bool(const Tensor& grad)>& add_into);

  // While alive, backward passes on this thread accept accumulate_in_place: the engine holds one
  // for backward() without create_graph.
  class InPlaceScope {
   public:
    explicit InPlaceScope(bool allowed);
    ~InPlaceScope();
    InPlaceScope(const InPlaceScope&) = delete;
    InPlaceScope& operator=(const InPlaceScope&) = delete;

   private:
    bool previous_;
  };

 private:
  // Runs `write(meta)` on the leaf's autograd meta under the lock (it returns whether it wrote),
  // then the post-accumulate hooks outside it.
  template <typename Write>
  bool accumulate(const std::shared_ptr<TensorImpl>& variable, Write&& write);

  std::weak_ptr<TensorImpl> variable_;
  std::mutex mutex_;  // serialises writes to .grad
};

}  // namespace tg
