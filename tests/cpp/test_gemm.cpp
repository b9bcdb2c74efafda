// Correctness test for tg::cpu::gemm against a naive double-precision reference: every ISA path
// the CPU has (forced with set_isa), float and double, all four transpose combinations expressed
// through strides, sliced operands, row-/column-major and general-stride C, alpha/beta variants
// (beta == 0 over a NaN-filled C), edge sizes, and the tall/skinny shapes of MLP training.
// Also checks that nothing outside C's m×n window is written. Each case runs a second time with B
// supplied by a packer (gemm_packing_b), as the convolution's implicit GEMM supplies it.
//
// Built by CMake with -DTAPEGRAD_BUILD_TESTS=ON (tests/cpp/CMakeLists.txt) and run by .ci/run:
//   cmake -S . -B build -DTAPEGRAD_BUILD_PYTHON=OFF -DTAPEGRAD_BUILD_TESTS=ON && cmake --build build
//   ./build/tests/cpp/test_gemm
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "tapegrad/core/error.h"
#include "tapegrad/core/threads.h"
#include "tapegrad/kernels/cpu/gemm.h"
#include "tapegrad/kernels/cpu/isa.h"

namespace {

using cpp_test::check;
using tg::cpu::Isa;

// How C is laid out in its buffer.
enum class Layout { RowMajor, ColumnMajor, Strided };

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::RowMajor: return "C row-major";
    case Layout::ColumnMajor: return "C col-major";
    case Layout::Strided: return "C strided";
  }
  return "?";
}

struct Case {
  int64_t m, n, k;
  bool transpose_a, transpose_b;
  int64_t pad;  // extra elements per stored row of A, B and C: a sliced view of a wider matrix
  double alpha, beta;
  Layout c_layout;
  int threads;  // 0: leave OpenMP's default
};

std::string describe(const Case& c, const char* type, Isa isa) {
  char text[256];
  std::snprintf(text, sizeof text,
                "%s %s m=%lld n=%lld k=%lld %c%c pad=%lld alpha=%g beta=%g %s threads=%d", type,
                tg::cpu::isa_name(isa), static_cast<long long>(c.m), static_cast<long long>(c.n),
                static_cast<long long>(c.k), c.transpose_a ? 'T' : 'N', c.transpose_b ? 'T' : 'N',
                static_cast<long long>(c.pad), c.alpha, c.beta, layout_name(c.c_layout), c.threads);
  return text;
}

// A logical rows×cols matrix stored row-major (or, when transposed, as the row-major cols×rows
// matrix it is the transpose of) with `pad` unused elements after every stored row.
struct Operand {
  std::vector<double> storage;
  int64_t row_stride, col_stride;
};

Operand make_operand(int64_t rows, int64_t cols, bool transposed, int64_t pad, std::mt19937& rng) {
  const int64_t stored_rows = transposed ? cols : rows;
  const int64_t stored_cols = transposed ? rows : cols;
  const int64_t leading = stored_cols + pad;
  Operand operand;
  // Multiples of 1/64 in [-1, 1] are exact in float, so float and double see the same inputs.
  std::uniform_int_distribution<int> value(-64, 64);
  operand.storage.resize(static_cast<std::size_t>(stored_rows * leading));
  for (double& x : operand.storage) x = value(rng) / 64.0;
  operand.row_stride = transposed ? 1 : leading;
  operand.col_stride = transposed ? leading : 1;
  return operand;
}

struct OutputLayout {
  int64_t row_stride, col_stride, size;
};

OutputLayout output_layout(int64_t m, int64_t n, int64_t pad, Layout layout) {
  switch (layout) {
    case Layout::RowMajor: return {n + pad, 1, m * (n + pad)};
    case Layout::ColumnMajor: return {1, m + pad, n * (m + pad)};
    case Layout::Strided: break;
  }
  // Column stride 2, rows 2n+1 apart: neither stride is 1.
  return {2 * n + 1, 2, m * (2 * n + 1)};
}

template <typename T>
std::vector<T> convert(const std::vector<double>& values) {
  return std::vector<T>(values.begin(), values.end());
}

// B through the packer interface: the matrix read through its strides, as the driver's own
// packing reads it.
template <typename T>
class StridedPacker final : public tg::cpu::BPacker<T> {
 public:
  StridedPacker(const T* b, int64_t row_stride, int64_t col_stride)
      : b_(b), row_stride_(row_stride), col_stride_(col_stride) {}
  void pack(int64_t depth_begin, int64_t depth, int64_t column_begin, int64_t columns, int width,
            T* panel) const override {
    for (int64_t p = 0; p < depth; ++p)
      for (int64_t r = 0; r < width; ++r)
        panel[p * width + r] =
            r < columns ? b_[(depth_begin + p) * row_stride_ + (column_begin + r) * col_stride_] : T(0);
  }

 private:
  const T* b_;
  int64_t row_stride_, col_stride_;
};

// Runs one case for element type T on the current ISA and compares with the reference.
template <typename T>
void run_case(const Case& c, const Operand& a, const Operand& b, const OutputLayout& out,
              const std::vector<double>& c_initial, const std::vector<double>& reference,
              const std::vector<double>& magnitude, const char* type, bool through_packer) {
  const std::vector<T> a_values = convert<T>(a.storage);
  const std::vector<T> b_values = convert<T>(b.storage);
  std::vector<T> c_values = convert<T>(c_initial);
  if (c.threads > 0) tg::set_num_threads(c.threads);
  if (through_packer) {
    tg::cpu::gemm_packing_b<T>(c.m, c.n, c.k, static_cast<T>(c.alpha), a_values.data(), a.row_stride, a.col_stride,
                               StridedPacker<T>(b_values.data(), b.row_stride, b.col_stride), static_cast<T>(c.beta),
                               c_values.data(), out.row_stride, out.col_stride);
  } else {
    tg::cpu::gemm<T>(c.m, c.n, c.k, static_cast<T>(c.alpha), a_values.data(), a.row_stride,
                     a.col_stride, b_values.data(), b.row_stride, b.col_stride,
                     static_cast<T>(c.beta), c_values.data(), out.row_stride, out.col_stride);
  }

  // Recursive or blocked summation of k products: error at most about k+2 roundings of the sum
  // of magnitudes.
  const double epsilon = std::numeric_limits<T>::epsilon();
  const double tolerance = (static_cast<double>(c.k) + 2.0) * epsilon;
  std::vector<bool> inside(c_values.size(), false);
  int64_t bad = 0;
  double worst = 0.0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      const int64_t at = i * out.row_stride + j * out.col_stride;
      inside[static_cast<std::size_t>(at)] = true;
      const double got = c_values[static_cast<std::size_t>(at)];
      const double want = reference[static_cast<std::size_t>(i * c.n + j)];
      const double error = std::abs(got - want);
      const double allowed = tolerance * magnitude[static_cast<std::size_t>(i * c.n + j)] + 1e-300;
      if (!(error <= allowed)) {  // also catches NaN
        ++bad;
        worst = std::max(worst, std::isnan(error) ? INFINITY : error / allowed);
      }
    }
  }
  int64_t clobbered = 0;
  for (std::size_t at = 0; at < c_values.size(); ++at) {
    if (inside[at]) continue;
    const T before = static_cast<T>(c_initial[at]);
    const T now = c_values[at];
    const bool same = (std::isnan(before) && std::isnan(now)) || before == now;
    if (!same) ++clobbered;
  }
  std::string what = describe(c, type, tg::cpu::active_isa()) + (through_packer ? " B packer" : "");
  if (bad > 0)
    what += " | " + std::to_string(bad) + " wrong, worst " + std::to_string(worst) + "x tolerance";
  if (clobbered > 0) what += " | " + std::to_string(clobbered) + " elements outside C written";
  check(bad == 0 && clobbered == 0, what);
}

void run(const Case& c, const std::vector<Isa>& isas, std::mt19937& rng) {
  const Operand a = make_operand(c.m, c.k, c.transpose_a, c.pad, rng);
  const Operand b = make_operand(c.k, c.n, c.transpose_b, c.pad, rng);
  const OutputLayout out = output_layout(c.m, c.n, c.pad, c.c_layout);

  // C starts as random values (NaN when beta == 0: it must be ignored); the gaps between its
  // rows hold NaN too, and must come back untouched.
  std::vector<double> c_initial(static_cast<std::size_t>(out.size),
                                std::numeric_limits<double>::quiet_NaN());
  std::uniform_int_distribution<int> value(-64, 64);
  if (c.beta != 0.0) {
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j)
        c_initial[static_cast<std::size_t>(i * out.row_stride + j * out.col_stride)] =
            value(rng) / 64.0;
  }

  // Reference in double over dense copies; `magnitude` is the same sum over absolute values, the
  // scale of the rounding error.
  std::vector<double> dense_a(static_cast<std::size_t>(c.m * c.k));
  std::vector<double> dense_b(static_cast<std::size_t>(c.k * c.n));
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t p = 0; p < c.k; ++p)
      dense_a[static_cast<std::size_t>(i * c.k + p)] =
          a.storage[static_cast<std::size_t>(i * a.row_stride + p * a.col_stride)];
  for (int64_t p = 0; p < c.k; ++p)
    for (int64_t j = 0; j < c.n; ++j)
      dense_b[static_cast<std::size_t>(p * c.n + j)] =
          b.storage[static_cast<std::size_t>(p * b.row_stride + j * b.col_stride)];
  std::vector<double> product(static_cast<std::size_t>(c.m * c.n), 0.0);
  std::vector<double> magnitude(static_cast<std::size_t>(c.m * c.n), 0.0);
  for (int64_t i = 0; i < c.m; ++i) {
    double* product_row = product.data() + i * c.n;
    double* magnitude_row = magnitude.data() + i * c.n;
    for (int64_t p = 0; p < c.k; ++p) {
      const double x = dense_a[static_cast<std::size_t>(i * c.k + p)];
      const double* b_row = dense_b.data() + p * c.n;
      for (int64_t j = 0; j < c.n; ++j) {
        product_row[j] += x * b_row[j];
        magnitude_row[j] += std::abs(x * b_row[j]);
      }
    }
  }
  std::vector<double> reference(product.size());
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * c.n + j);
      const double old = c.beta == 0.0 ? 0.0
                                       : c_initial[static_cast<std::size_t>(
                                             i * out.row_stride + j * out.col_stride)];
      reference[at] = c.alpha * product[at] + c.beta * old;
      magnitude[at] = std::abs(c.alpha) * magnitude[at] + std::abs(c.beta * old);
    }
  }

  const int default_threads = tg::get_num_threads();
  for (Isa isa : isas) {
    tg::cpu::set_isa(isa);
    for (bool through_packer : {false, true}) {
      run_case<float>(c, a, b, out, c_initial, reference, magnitude, "float", through_packer);
      run_case<double>(c, a, b, out, c_initial, reference, magnitude, "double", through_packer);
    }
    tg::set_num_threads(default_threads);
  }
}

void test_isa_selection(std::vector<Isa>& isas) {
  const Isa detected = tg::cpu::detected_isa();
  std::printf("detected ISA: %s, active at start: %s, OpenMP threads: %d\n",
              tg::cpu::isa_name(detected), tg::cpu::isa_name(tg::cpu::active_isa()),
              omp_get_max_threads());
  check(std::string(tg::cpu::isa_name(Isa::Generic)) == "generic" &&
            std::string(tg::cpu::isa_name(Isa::Avx2)) == "avx2" &&
            std::string(tg::cpu::isa_name(Isa::Avx512)) == "avx512",
        "isa_name spells generic/avx2/avx512");
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (static_cast<int>(isa) <= static_cast<int>(detected)) {
      tg::cpu::set_isa(isa);
      check(tg::cpu::active_isa() == isa, std::string("set_isa(") + tg::cpu::isa_name(isa) + ")");
      isas.push_back(isa);
    } else {
      bool threw = false;
      try {
        tg::cpu::set_isa(isa);
      } catch (const tg::ValueError& error) {
        threw = std::string(error.what()).rfind("[cpu_isa]", 0) == 0;
      }
      check(threw, std::string("set_isa(") + tg::cpu::isa_name(isa) +
                       ") on a CPU without it throws ValueError \"[cpu_isa] ...\"");
    }
  }
}

// TAPEGRAD_CPU is read once per process, so each value is checked in a child process running
// this program with --print-active-isa.
void test_environment_variable(const char* self) {
  const auto child_says = [&](const std::string& value) {
    const std::string command = "TAPEGRAD_CPU=" + value + " '" + self + "' --print-active-isa";
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buffer[256];
      while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
      pclose(pipe);
    }
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return output;
  };
  const Isa detected = tg::cpu::detected_isa();
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    const std::string name = tg::cpu::isa_name(isa);
    const std::string said = child_says(name);
    if (static_cast<int>(isa) <= static_cast<int>(detected)) {
      check(said == name, "TAPEGRAD_CPU=" + name + " selects " + name + " (got '" + said + "')");
    } else {
      check(said.rfind("[cpu_isa]", 0) == 0,
            "TAPEGRAD_CPU=" + name + " on a CPU without it is an error (got '" + said + "')");
    }
  }
  const std::string said = child_says("sse9");
  check(said.rfind("[cpu_isa]", 0) == 0, "TAPEGRAD_CPU=sse9 is an error (got '" + said + "')");
}

// A program with OpenMP threads of its own may call gemm from each of them, each thread with its own
// product: every product must come out whole, not shared out across the caller's team.
void test_called_by_each_thread_of_a_team() {
  constexpr int kTeam = 2;
  struct Product {
    int64_t m, n, k;
    std::vector<float> a, b, c;
  };
  std::vector<Product> products;
  for (int member = 0; member < kTeam; ++member) {
    // Big enough for gemm to want threads, and a different shape per thread.
    Product product{128 + 12 * member, 128, 784 - 100 * member, {}, {}, {}};
    product.a.resize(static_cast<std::size_t>(product.m * product.k));
    product.b.resize(static_cast<std::size_t>(product.k * product.n));
    product.c.assign(static_cast<std::size_t>(product.m * product.n), NAN);
    for (std::size_t at = 0; at < product.a.size(); ++at) product.a[at] = static_cast<float>(at % 7) - 3;
    for (std::size_t at = 0; at < product.b.size(); ++at) product.b[at] = static_cast<float>(at % 5) - 2;
    products.push_back(std::move(product));
  }
  // A work-sharing loop, so that a smaller team than asked for still computes every product.
#pragma omp parallel for schedule(static, 1) num_threads(kTeam)
  for (int member = 0; member < kTeam; ++member) {
    Product& product = products[static_cast<std::size_t>(member)];
    tg::cpu::gemm<float>(product.m, product.n, product.k, 1.0f, product.a.data(), product.k, 1,
                         product.b.data(), product.n, 1, 0.0f, product.c.data(), product.n, 1);
  }
  for (int member = 0; member < kTeam; ++member) {
    const Product& product = products[static_cast<std::size_t>(member)];
    int64_t wrong = 0;
    for (int64_t i = 0; i < product.m; ++i) {
      for (int64_t j = 0; j < product.n; ++j) {
        double want = 0;  // small integers: exact in float
        for (int64_t p = 0; p < product.k; ++p)
          want += static_cast<double>(product.a[static_cast<std::size_t>(i * product.k + p)]) *
                  product.b[static_cast<std::size_t>(p * product.n + j)];
        wrong += product.c[static_cast<std::size_t>(i * product.n + j)] != static_cast<float>(want);
      }
    }
    check(wrong == 0, "gemm called by thread " + std::to_string(member) + " of the caller's team: " +
                          std::to_string(wrong) + " elements wrong");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--print-active-isa") {
    try {
      std::printf("%s\n", tg::cpu::isa_name(tg::cpu::active_isa()));
    } catch (const tg::ValueError& error) {
      std::printf("%s\n", error.what());
    }
    return 0;
  }
  // --threaded-only (the ThreadSanitizer run of .ci/sanitize): only the cases that run a thread team
  // and the caller's-team test; the serial cases find no race and cost TSan many minutes.
  const bool threaded_only = argc > 1 && std::string(argv[1]) == "--threaded-only";
  test_environment_variable(argv[0]);

  std::mt19937 rng(12345);
  std::vector<Isa> isas;
  test_isa_selection(isas);

  std::vector<Case> cases;
  // Square sizes around the block and tile edges, all four transposes.
  for (int64_t size : {0, 1, 7, 17, 63, 65, 129, 257, 1000}) {
    for (int t = 0; t < 4; ++t) {
      if (size == 1000 && t % 3 != 0) continue;  // NN and TT only: the reference is slow
      cases.push_back(
          {size, size, size, (t & 1) != 0, (t & 2) != 0, 0, 1.0, 0.0, Layout::RowMajor, 0});
    }
  }
  // Every combination of small sizes, with varying transposes, slices, alpha/beta and C layouts.
  const int64_t small[] = {0, 1, 7, 17, 63, 65, 129};
  const double alphas[] = {1.0, -0.5, 2.0};
  const double betas[] = {0.0, 1.0, 0.5, -2.0};
  const Layout layouts[] = {Layout::RowMajor, Layout::ColumnMajor, Layout::Strided};
  int variant = 0;
  for (int64_t m : small)
    for (int64_t n : small)
      for (int64_t k : small) {
        const int v = variant++;
        cases.push_back({m, n, k, (v & 1) != 0, (v & 2) != 0, v % 5 == 0 ? 3 : 0, alphas[v % 3],
                         betas[v % 4], layouts[(v / 4) % 3], 0});
      }
  // Larger than one block in every dimension (MC, KC, NC of every kernel configuration), sliced.
  cases.push_back({300, 4200, 520, false, true, 5, 1.0, 1.0, Layout::RowMajor, 0});
  cases.push_back({700, 90, 600, true, false, 1, 0.5, 0.0, Layout::ColumnMajor, 0});
  // A single row panel of A with B read in place, big enough for a thread team; and
  // vector-matrix products wider than one pass of the streaming loop.
  cases.push_back({12, 2000, 600, false, false, 2, 1.0, 0.5, Layout::RowMajor, 2});
  cases.push_back({7, 1000, 700, true, false, 0, -1.0, 0.0, Layout::RowMajor, 2});
  // Too few column panels for two threads (fewer than 2 * threads: 64 columns for AVX-512 float,
  // 16 for AVX2 float and AVX-512 double, 8 for AVX2 double), so they split C by rows instead; one
  // with a partial last column panel and a strided C.
  cases.push_back({1001, 64, 300, false, true, 0, 1.0, 0.5, Layout::RowMajor, 2});
  cases.push_back({1001, 16, 300, true, false, 0, 1.0, 0.0, Layout::RowMajor, 2});
  cases.push_back({999, 8, 300, false, false, 0, -1.0, 1.0, Layout::RowMajor, 2});
  cases.push_back({1000, 63, 200, false, true, 1, 1.0, 0.0, Layout::Strided, 2});
  for (int t = 0; t < 4; ++t) {
    cases.push_back({1, 3000, 700, (t & 1) != 0, (t & 2) != 0, 1, 1.0, 0.0, Layout::RowMajor, 0});
    cases.push_back({3000, 1, 700, (t & 1) != 0, (t & 2) != 0, 1, 2.0, 1.0, Layout::ColumnMajor, 0});
  }
  // alpha == 0 and k == 0 only scale C.
  cases.push_back({17, 33, 9, false, false, 0, 0.0, 0.5, Layout::RowMajor, 0});
  cases.push_back({17, 33, 0, false, false, 0, 1.0, 0.0, Layout::RowMajor, 0});
  // Tall and skinny.
  for (int t = 0; t < 4; ++t) {
    const bool ta = (t & 1) != 0, tb = (t & 2) != 0;
    cases.push_back({4096, 8, 8, ta, tb, 0, 1.0, 0.0, Layout::RowMajor, 0});
    cases.push_back({8, 4096, 8, ta, tb, 0, 1.0, 1.0, Layout::RowMajor, 0});
    cases.push_back({8, 8, 4096, ta, tb, 0, 1.0, 0.0, Layout::RowMajor, 0});
    cases.push_back({1, 784, 128, ta, tb, 0, 1.0, 0.0, Layout::RowMajor, 0});
    cases.push_back({128, 784, 10, ta, tb, 0, 1.0, 0.0, Layout::RowMajor, 0});
  }
  // The 784-128-10 MLP at batch 128, as the forward and backward passes call it, on 1 and 2
  // threads: X·W1^T, h·W2^T, G2·W2, G2^T·h, G1·W1, G1^T·X (the weight gradients accumulate).
  for (int threads : {1, 2}) {
    cases.push_back({128, 128, 784, false, true, 0, 1.0, 0.0, Layout::RowMajor, threads});
    cases.push_back({128, 10, 128, false, true, 0, 1.0, 0.0, Layout::RowMajor, threads});
    cases.push_back({128, 128, 10, false, false, 0, 1.0, 0.0, Layout::RowMajor, threads});
    cases.push_back({10, 128, 128, true, false, 0, 1.0, 1.0, Layout::RowMajor, threads});
    cases.push_back({128, 784, 128, false, false, 0, 1.0, 0.0, Layout::RowMajor, threads});
    cases.push_back({128, 784, 128, true, false, 0, 1.0, 1.0, Layout::RowMajor, threads});
    // At batch 1 the weight gradients are outer products (depth one), written or accumulated.
    cases.push_back({128, 784, 1, true, false, 0, 1.0, 0.0, Layout::RowMajor, threads});
    cases.push_back({784, 128, 1, true, false, 1, 1.0, 1.0, Layout::ColumnMajor, threads});
  }

  if (threaded_only) std::erase_if(cases, [](const Case& c) { return c.threads < 2; });
  for (const Case& c : cases) run(c, isas, rng);
  test_called_by_each_thread_of_a_team();

  return cpp_test::summary();
}
