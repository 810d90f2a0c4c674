// Turns tensor geometry into the kernels' Strided<N> descriptor: size-1 dims are dropped and adjacent dims
// that are contiguous with each other in every operand are merged, so a transposed or broadcast view
// usually needs 2–3 dims and a plain tensor 1. Host-only and GPU-free (unit-tested without a device).
#pragma once
#include <array>
#include <vector>

#include "engine/core/shape.h"
#include "kernels/kernel_types.h"

namespace clipt::cuda {

struct CoalescedLayout {
  Shape sizes;                 // at least one dim
  std::vector<Shape> strides;  // one per operand, same length as sizes
  bool contiguous(size_t operand) const { return sizes.size() == 1 && strides[operand][0] == 1; }
};

// `shape` is the iteration shape; strides[k] are operand k's strides over it (0 for broadcast dims).
CoalescedLayout coalesce(const Shape& shape, const std::vector<const Shape*>& strides);

// The descriptor for the kernels; throws clipt::Error naming `op` when more than kMaxDims dims remain.
template <int N> kernels::Strided<N> to_strided(const CoalescedLayout& layout, const char* op);

}  // namespace clipt::cuda
