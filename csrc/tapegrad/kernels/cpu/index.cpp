#include <cstring>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {

void CpuBackend::index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets) {
  const int64_t rows = static_cast<int64_t>(offsets.outer.size() * offsets.index.size());
  const int64_t row_length = static_cast<int64_t>(offsets.inner.size());
  if (rows == 0 || row_length == 0) return;
  const int64_t index_count = static_cast<int64_t>(offsets.index.size());
  dispatch_all(src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = static_cast<const T*>(src.raw_data());
    T* destination = static_cast<T*>(out.raw_data());
    const int64_t* inner = offsets.inner.data();
    // Rows are independent, so threads split them once the copy is large enough to pay for a team.
    const int threads = cpu::threads_for(rows * row_length);
#pragma omp parallel for num_threads(threads) if (threads > 1)
    for (int64_t row = 0; row < rows; ++row) {
      const T* from = source + offsets.outer[row / index_count] + offsets.index[row % index_count];
      T* to = destination + row * row_length;
      if (offsets.inner_is_run) {
        std::memcpy(to, from, static_cast<size_t>(row_length) * sizeof(T));
      } else {
        for (int64_t a = 0; a < row_length; ++a) to[a] = from[inner[a]];
      }
    }
  });
}

void CpuBackend::index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate) {
  const int64_t index_count = static_cast<int64_t>(offsets.index.size());
  const int64_t rows = static_cast<int64_t>(offsets.outer.size()) * index_count;
  const int64_t row_length = static_cast<int64_t>(offsets.inner.size());
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* source = static_cast<const T*>(values.raw_data());
    T* destination = static_cast<T*>(dst.raw_data());
    // One thread: repeated indices must accumulate (or overwrite) in a fixed order.
    for (int64_t row = 0; row < rows; ++row) {
      T* to = destination + offsets.outer[row / index_count] + offsets.index[row % index_count];
      const T* from = source + row * row_length;
      if (accumulate) {
        for (int64_t a = 0; a < row_length; ++a) to[offsets.inner[a]] = static_cast<T>(to[offsets.inner[a]] + from[a]);
      } else if (offsets.inner_is_run) {
        std::memcpy(to, from, static_cast<size_t>(row_length) * sizeof(T));
      } else {
        for (int64_t a = 0; a < row_length; ++a) to[offsets.inner[a]] = from[a];
      }
    }
  });
}

void CpuBackend::add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride,
                                   int64_t dim, const char* op) {
  const int64_t* data = index.data_ptr<int64_t>();
  for (size_t j = 0; j < offsets.size(); ++j) {
    int64_t position = data[j];
    TG_CHECK_INDEX(position >= -size && position < size, op, "index ", position,
                   " is out of bounds for dimension ", dim, " with size ", size);
    if (position < 0) position += size;
    offsets[j] += position * stride;
  }
}

namespace {

// Calls visit(flat_position, element) over self in row-major order.
template <typename T, typename Visit>
void for_each_element(const Tensor& self, Visit&& visit) {
  const T* data = static_cast<const T*>(self.raw_data());
  const int64_t ndim = self.dim();
  DimVector position(ndim, 0);
  int64_t offset = 0;
  for (int64_t flat = 0; flat < self.numel(); ++flat) {
    visit(position, data[offset]);
    for (int64_t d = ndim - 1; d >= 0; --d) {
      offset += self.strides()[d];
      if (++position[d] < self.sizes()[d]) break;
      offset -= position[d] * self.strides()[d];
      position[d] = 0;
    }
  }
}

}  // namespace

int64_t CpuBackend::count_nonzero(const Tensor& self) {
  int64_t count = 0;
  dispatch_all(self.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_element<T>(self, [&](const DimVector&, T value) { count += value != T(0); });
  });
  return count;
}

void CpuBackend::nonzero(const Tensor& out, const Tensor& self) {
  int64_t* coordinates = static_cast<int64_t*>(out.raw_data());
  dispatch_all(self.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_element<T>(self, [&](const DimVector& position, T value) {
      if (value == T(0)) return;
      for (size_t d = 0; d < position.size(); ++d) *coordinates++ = position[d];
    });
  });
}

}  // namespace tg::cpu
