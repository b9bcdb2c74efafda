// Sizes and strides: a vector of int64 that keeps up to six dims inline, so creating a tensor of
// ordinary rank allocates nothing for its metadata.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <utility>
#include <ostream>

namespace tg {

class DimVector {
 public:
  static constexpr uint32_t kInline = 6;

  DimVector() = default;
  explicit DimVector(size_t size, int64_t value = 0) { assign(size, value); }
  DimVector(std::initializer_list<int64_t> values) { assign(values.begin(), values.end()); }
  template <typename It, typename = decltype(*std::declval<It>())>
  DimVector(It first, It last) { assign(first, last); }
  DimVector(const DimVector& other) { assign(other.begin(), other.end()); }
  DimVector(DimVector&& other) noexcept { steal(other); }
  DimVector& operator=(const DimVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  DimVector& operator=(DimVector&& other) noexcept {
    if (this != &other) { release(); steal(other); }
    return *this;
  }
  ~DimVector() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t* data() { return data_; }
  const int64_t* data() const { return data_; }
  int64_t& operator[](size_t i) { return data_[i]; }
  int64_t operator[](size_t i) const { return data_[i]; }
  int64_t* begin() { return data_; }
  int64_t* end() { return data_ + size_; }
  const int64_t* begin() const { return data_; }
  const int64_t* end() const { return data_ + size_; }
  int64_t back() const { return data_[size_ - 1]; }

  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    auto* grown = new int64_t[capacity];
    std::copy(data_, data_ + size_, grown);
    release();
    data_ = grown;
    capacity_ = static_cast<uint32_t>(capacity);
  }
  void resize(size_t size, int64_t value = 0) {
    reserve(size);
    for (size_t i = size_; i < size; ++i) data_[i] = value;
    size_ = static_cast<uint32_t>(size);
  }
  void push_back(int64_t value) {
    if (size_ == capacity_) reserve(capacity_ * 2);
    data_[size_++] = value;
  }
  void insert(size_t position, int64_t value) {
    push_back(0);
    std::copy_backward(data_ + position, data_ + size_ - 1, data_ + size_);
    data_[position] = value;
  }
  void erase(size_t position) {
    std::copy(data_ + position + 1, data_ + size_, data_ + position);
    --size_;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }

  bool operator==(const DimVector& other) const {
    return size_ == other.size_ && std::equal(begin(), end(), other.begin());
  }
  bool operator!=(const DimVector& other) const { return !(*this == other); }

 private:
  void assign(size_t size, int64_t value) {
    size_ = 0;
    resize(size, value);
  }
  template <typename It>
  void assign(It first, It last) {
    size_ = 0;
    reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) data_[size_++] = static_cast<int64_t>(*first);
  }
  void release() {
    if (data_ != inline_) delete[] data_;
    data_ = inline_;
    capacity_ = kInline;
  }
  void steal(DimVector& other) {
    if (other.data_ == other.inline_) {
      data_ = inline_;
      capacity_ = kInline;
      std::copy(other.begin(), other.end(), inline_);
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.inline_;
      other.capacity_ = kInline;
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  int64_t inline_[kInline];
  int64_t* data_ = inline_;
  uint32_t size_ = 0;
  uint32_t capacity_ = kInline;
};

// Prints like a Python tuple: (3, 4), (5,), ().
inline std::ostream& operator<<(std::ostream& out, const DimVector& dims) {
  out << '(';
  for (size_t i = 0; i < dims.size(); ++i) out << (i ? ", " : "") << dims[i];
  return out << (dims.size() == 1 ? ",)" : ")");
}

}  // namespace tg
