// The kernel dispatch by device: every op reaches its kernels through kernels::backend(op, tensors),
// which picks the Backend of the device the tensors share (kernels/backend.h). Tensors on a device
// this build has no backend for (CUDA) are refused by every op, naming the op, with
// NotImplementedError where a kernel is missing and a RuntimeError where memory would have to be
// allocated there or devices are mixed; CPU tensors run. Python cannot make a CUDA tensor in this
// build, so the CUDA tensors here wrap host memory under a CUDA device (never dereferenced: the
// dispatch refuses first).
//
// Built by CMake with -DTAPEGRAD_BUILD_TESTS=ON (tests/cpp/CMakeLists.txt) and run by .ci/run.
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "check.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/tapegrad.h"

namespace {

using cpp_test::check;

// Runs `body`, which must throw E with exactly `message`.
template <typename E>
void expect_error(const std::string& message, const std::function<void()>& body) {
  try {
    body();
    check(false, message + " (nothing was thrown)");
  } catch (const E& error) {
    check(error.what() == message, message + " (got: " + error.what() + ")");
  } catch (const std::exception& error) {
    check(false, message + " (another exception type: " + error.what() + ")");
  }
}

// A float32 tensor of `sizes` on cuda:0, over host memory that nothing may touch.
tg::Tensor cuda_tensor(const tg::DimVector& sizes, std::vector<float>& memory) {
  memory.assign(static_cast<size_t>(tg::checked_numel(sizes, "test")), 0.0f);
  auto storage = tg::Storage::wrap(memory.data(), memory.size() * sizeof(float), tg::Device::parse("cuda:0"), nullptr);
  return tg::Tensor(std::make_shared<tg::TensorImpl>(storage, sizes, tg::contiguous_strides(sizes), 0, tg::DType::Float32));
}

// Each backend implements the whole interface (anything left pure would make it abstract), and its
// overrides are checked against the interface's signatures by the compiler.
static_assert(std::is_abstract_v<tg::kernels::Backend>);
static_assert(std::is_base_of_v<tg::kernels::Backend, tg::cpu::CpuBackend> && !std::is_abstract_v<tg::cpu::CpuBackend>);

// kernels::backend and backend_for themselves, without an op around them.
void test_backend_lookup(const tg::Tensor& host, const tg::Tensor& cuda) {
  tg::kernels::Backend& cpu = tg::kernels::backend_for(tg::Device::parse("cpu"), "probe");
  check(&cpu == &tg::cpu::cpu_backend, "backend_for(cpu) is the CPU backend");
  check(tg::kernels::backend("probe", host, tg::Tensor(), host).operator->() == &cpu,
        "backend(op, tensors) skips undefined (absent optional) tensors");
  int backends = 0;
  tg::kernels::for_each_backend([&](tg::kernels::Backend& backend) { backends += &backend == &cpu ? 1 : 100; });
  check(backends == 1, "for_each_backend visits the CPU backend, the only one in this build");

  expect_error<tg::NotImplementedError>("[probe] not implemented for device cuda:1 (tapegrad was built without CUDA)",
                                        [] { tg::kernels::backend_for(tg::Device::parse("cuda:1"), "probe"); });
  expect_error<tg::NotImplementedError>("[probe] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::kernels::backend("probe", cuda, tg::Tensor(), cuda); });
  // Mixed devices are found before the missing backend, whichever device comes first.
  expect_error<tg::Error>("[probe] expected all tensors to be on the same device, but found at least two devices, cpu "
                          "and cuda:0", [&] { tg::kernels::backend("probe", host, tg::Tensor(), cuda); });
  expect_error<tg::Error>("[probe] expected all tensors to be on the same device, but found at least two devices, "
                          "cuda:0 and cpu", [&] { tg::kernels::backend("probe", cuda, host); });
}

}  // namespace

int main() {
  std::vector<float> memory_a, memory_b;
  tg::Tensor a = cuda_tensor({2, 3}, memory_a), b = cuda_tensor({2, 3}, memory_b);
  tg::Tensor host = tg::ones({2, 3}, tg::DType::Float32);
  const std::vector<float> untouched(6, 0.0f);

  test_backend_lookup(host, a);

  // Kernels without a CUDA backend, reached through in-place ops (nothing to allocate first).
  expect_error<tg::NotImplementedError>("[fill_] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::fill_(a, 1.0); });
  expect_error<tg::NotImplementedError>("[add] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::add_(a, b); });
  expect_error<tg::NotImplementedError>("[copy] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::copy_(a, b); });
  expect_error<tg::NotImplementedError>("[uniform_] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::uniform_(a, 0.0, 1.0); });
  expect_error<tg::NotImplementedError>("[sgd_step] not implemented for device cuda:0 (tapegrad was built without CUDA)",
                                        [&] { tg::sgd_step(a, b, tg::Tensor(), {.lr = 0.1}); });
  check(memory_a == untouched && memory_b == untouched, "refused kernels write nothing");

  // Mixed devices in one kernel call.
  expect_error<tg::Error>("[copy] expected all tensors to be on the same device, but found at least two devices, cpu "
                          "and cuda:0", [&] { tg::copy_(host, a); });
  expect_error<tg::Error>("[add] expected both tensors on the same device, got cpu and cuda:0",
                          [&] { tg::add(host, a); });

  // Ops that allocate their result on the tensors' device stop at the allocation.
  expect_error<tg::Error>("[add] tapegrad was built without support for device cuda:0", [&] { tg::add(a, b); });
  expect_error<tg::Error>("[matmul] tapegrad was built without support for device cuda:0",
                          [&] { tg::matmul(a, tg::transpose(b, 0, 1)); });
  expect_error<tg::Error>("[zeros_like] tapegrad was built without support for device cuda:0",
                          [&] { tg::zeros_like(a); });
  expect_error<tg::Error>("[eye] tapegrad was built without support for device cuda",
                          [&] { tg::eye(2, 2, tg::DType::Float32, tg::Device::parse("cuda")); });

  // CPU tensors go through the same dispatch and run.
  tg::Tensor sum = tg::sum(tg::matmul(host, tg::transpose(host, 0, 1)));
  check(*sum.data_ptr<float>() == 12.0f, "CPU tensors run through the dispatch");

  return cpp_test::summary();
}
