// Custom functions from C++: FunctionNode and record_function know nothing of Python, so a
// std::function backward is all it takes to put a hand-written op on the tape.
//
// Built by CMake with -DTAPEGRAD_BUILD_TESTS=ON (tests/cpp/CMakeLists.txt) and run by .ci/run.
#include <functional>
#include <string>

#include "check.h"
#include "tapegrad/tapegrad.h"

namespace {

using cpp_test::check;

bool raises(const std::function<void()>& f, const std::string& part) {
  try {
    f();
  } catch (const tg::Error& e) {
    return std::string(e.what()).find(part) != std::string::npos;
  }
  return false;
}

// y = 3x, computed outside autograd; the backward saved x to check it comes back.
void test_a_custom_function_records_saves_and_runs_backward() {
  tg::Tensor x = tg::ones({3}, tg::DType::Float32);
  x.requires_grad_();
  tg::Tensor y;
  {
    tg::NoGradGuard no_grad;
    y = tg::mul(x, tg::Scalar(3.0));
  }
  std::shared_ptr<tg::FunctionNode> node;
  bool saw_saved_input = false;
  auto backward = [&](const tg::TensorList& grads) -> tg::TensorList {
    saw_saved_input = node->saved_tensors().at(0).is_same(x);
    return {tg::mul(grads[0], tg::Scalar(3.0)), tg::Tensor()};  // a trailing undefined gradient is allowed
  };
  tg::RecordedFunction recorded = tg::record_function(backward, "TripleBackward", true, {x, tg::Tensor()}, {y},
                                                      {x}, {}, {});
  node = recorded.node;
  const tg::Tensor out = recorded.outputs[0];
  check(out.grad_fn() == recorded.node && out.requires_grad(), "the output's grad_fn is the function's node");
  check(out.grad_fn()->name() == "TripleBackward", "the node has the given name");
  tg::sum(out).backward();
  check(saw_saved_input, "the backward reads the saved input back");
  check(x.grad().defined() && tg::allclose(x.grad(), tg::full({3}, tg::Scalar(3.0), tg::DType::Float32)),
        "the input's gradient is what the backward returned");
}

void test_a_custom_function_checks_its_gradients() {
  tg::Tensor x = tg::ones({2}, tg::DType::Float32);
  x.requires_grad_();
  const tg::Tensor y = tg::ones({2}, tg::DType::Float32);
  auto too_many = [](const tg::TensorList& grads) -> tg::TensorList { return {grads[0], grads[0]}; };
  const tg::Tensor out = tg::record_function(too_many, "TwoBackward", true, {x}, {y}, {}, {}, {}).outputs[0];
  check(raises([&] { tg::sum(out).backward(); }, "returned an incorrect number of gradients (expected 1, got 2)"),
        "a backward returning too many gradients is an error naming the function");
  auto for_a_number = [](const tg::TensorList& grads) -> tg::TensorList { return {grads[0], grads[0]}; };
  const tg::Tensor out2 =
      tg::record_function(for_a_number, "NumberBackward", true, {x, tg::Tensor()}, {y}, {}, {}, {}).outputs[0];
  check(raises([&] { tg::sum(out2).backward(); }, "the corresponding forward input was not a Tensor"),
        "a gradient for a non-tensor argument is an error");
}

void test_mark_dirty_must_name_a_returned_input() {
  tg::Tensor x = tg::ones({2}, tg::DType::Float32);
  x.requires_grad_();
  const tg::Tensor other = tg::ones({2}, tg::DType::Float32);
  auto identity = [](const tg::TensorList& grads) -> tg::TensorList { return grads; };
  check(raises([&] { tg::record_function(identity, "DirtyBackward", true, {x}, {x}, {}, {}, {other}); },
               "mark_dirty only accepts input tensors"),
        "a dirty tensor that is not an input is an error");
}

}  // namespace

int main() {
  test_a_custom_function_records_saves_and_runs_backward();
  test_a_custom_function_checks_its_gradients();
  test_mark_dirty_must_name_a_returned_input();
  return cpp_test::summary();
}
