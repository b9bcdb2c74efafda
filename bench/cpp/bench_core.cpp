// Microbenchmarks of the C++ core without Python in the way: GEMM per shape and micro-kernel path
// (GFLOP/s), elementwise and reduction throughput (GB/s), view/contiguous copies, and autograd
// overhead per node. Run: ./build/bench/cpp/bench_core [--benchmark_min_time=0.05s]
#include <benchmark/benchmark.h>

#include <tapegrad/kernels/cpu/gemm.h>
#include <tapegrad/kernels/cpu/isa.h>
#include <tapegrad/tapegrad.h>

namespace {

tg::Tensor random_matrix(int64_t rows, int64_t cols) { return tg::randn({rows, cols}, tg::DType::Float32); }

// C = A·B (or with transposes: the MLP's backward products read operands through strides).
void gemm(benchmark::State& state, int64_t m, int64_t n, int64_t k, bool transpose_a, bool transpose_b,
          tg::cpu::Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(tg::cpu::detected_isa())) {
    state.SkipWithError("this CPU lacks the instruction set");
    return;
  }
  tg::cpu::set_isa(isa);
  const tg::Tensor a = random_matrix(transpose_a ? k : m, transpose_a ? m : k);
  const tg::Tensor b = random_matrix(transpose_b ? n : k, transpose_b ? k : n);
  tg::Tensor c = tg::empty({m, n}, tg::DType::Float32);
  const float* a_data = a.data_ptr<float>();
  const float* b_data = b.data_ptr<float>();
  for (auto _ : state) {
    tg::cpu::gemm<float>(m, n, k, 1.0f, a_data, transpose_a ? 1 : k, transpose_a ? m : 1, b_data,
                         transpose_b ? 1 : n, transpose_b ? k : 1, 0.0f, c.data_ptr<float>(), n, 1);
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  tg::cpu::set_isa(tg::cpu::detected_isa());
}

void register_gemms() {
  const std::pair<tg::cpu::Isa, const char*> isas[] = {
      {tg::cpu::Isa::Generic, "generic"}, {tg::cpu::Isa::Avx2, "avx2"}, {tg::cpu::Isa::Avx512, "avx512"}};
  struct Shape { const char* name; int64_t m, n, k; bool transpose_a, transpose_b; };
  const Shape shapes[] = {
      {"square256", 256, 256, 256, false, false},
      {"square512", 512, 512, 512, false, false},
      {"square1024", 1024, 1024, 1024, false, false},
      {"mlp_fc1_forward_X_W1T", 128, 128, 784, false, true},
      {"mlp_fc2_forward_h_W2T", 128, 10, 128, false, true},
      {"mlp_fc2_grad_input_G2_W2", 128, 128, 10, false, false},
      {"mlp_fc2_grad_weight_G2T_h", 10, 128, 128, true, false},
      {"mlp_fc1_grad_input_G1_W1", 128, 784, 128, false, false},
      {"mlp_fc1_grad_weight_G1T_X", 128, 784, 128, true, false},
  };
  for (const auto& [isa, isa_name] : isas)
    for (const Shape& shape : shapes)
      benchmark::RegisterBenchmark((std::string("gemm/") + isa_name + "/" + shape.name).c_str(),
                                   [=](benchmark::State& state) {
                                     gemm(state, shape.m, shape.n, shape.k, shape.transpose_a, shape.transpose_b, isa);
                                   })->Unit(benchmark::kMicrosecond);
}

void elementwise_add(benchmark::State& state) {
  const tg::Tensor a = tg::rand({state.range(0)}, tg::DType::Float32), b = tg::rand({state.range(0)}, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::add(a, b).raw_data());
  state.SetBytesProcessed(state.iterations() * state.range(0) * 3 * 4);
}
BENCHMARK(elementwise_add)->Arg(1 << 10)->Arg(1 << 20);

void elementwise_exp(benchmark::State& state) {
  const tg::Tensor a = tg::rand({state.range(0)}, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::exp(a).raw_data());
  state.SetBytesProcessed(state.iterations() * state.range(0) * 2 * 4);
}
BENCHMARK(elementwise_exp)->Arg(1 << 20);

void reduce_sum(benchmark::State& state, int64_t dim) {
  const tg::Tensor a = tg::rand({4096, 4096}, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::sum(a, {dim}).raw_data());
  state.SetBytesProcessed(state.iterations() * a.numel() * 4);
}
BENCHMARK_CAPTURE(reduce_sum, rows, 1);
BENCHMARK_CAPTURE(reduce_sum, columns, 0);

void softmax_rows(benchmark::State& state) {
  const tg::Tensor a = tg::rand({4096, 4096}, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::softmax(a, 1).raw_data());
  state.SetBytesProcessed(state.iterations() * a.numel() * 2 * 4);
}
BENCHMARK(softmax_rows);

void contiguous_of_transposed(benchmark::State& state) {
  const tg::Tensor a = tg::rand({state.range(0), state.range(0)}, tg::DType::Float32);
  const tg::Tensor transposed = tg::t(a);
  for (auto _ : state) benchmark::DoNotOptimize(tg::contiguous(transposed).raw_data());
  state.SetBytesProcessed(state.iterations() * a.numel() * 2 * 4);
}
BENCHMARK(contiguous_of_transposed)->Arg(1024)->Arg(4096);

void view_ops(benchmark::State& state) {
  const tg::Tensor a = tg::rand({256, 256}, tg::DType::Float32);
  for (auto _ : state) benchmark::DoNotOptimize(tg::transpose(tg::view(a, {128, 512}), 0, 1).raw_data());
}
BENCHMARK(view_ops);

// Record a chain of `length` multiplications and run backward: the time per node is the tape's
// overhead (node allocation, edges, saved tensors, engine scheduling) on 1-element tensors.
void autograd_chain(benchmark::State& state) {
  const int64_t length = state.range(0);
  tg::Tensor x = tg::ones({1}, tg::DType::Float32);
  x.requires_grad_();
  for (auto _ : state) {
    tg::Tensor y = x;
    for (int64_t i = 0; i < length; ++i) y = tg::mul(y, tg::Scalar(1.0));
    y.backward(tg::ones({1}, tg::DType::Float32));
    x.set_grad({});
  }
  state.counters["ns/node"] = benchmark::Counter(static_cast<double>(length) * state.iterations(),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(autograd_chain)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  register_gemms();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
