#include "engine/cuda/strided_layout.h"

#include <algorithm>

#include "engine/core/error.h"

namespace clipt::cuda {

CoalescedLayout coalesce(const Shape& shape, const std::vector<const Shape*>& strides) {
  const size_t nops = strides.size();
  CoalescedLayout out;
  out.strides.resize(nops);
  // Walk from the innermost dim outwards, merging dim d into the current (inner) one when every operand
  // steps over the inner block exactly: stride_k[d] == stride_k[inner] · size[inner].
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    const int64_t size = shape[size_t(d)];
    if (size == 1) continue;
    bool merge = !out.sizes.empty();
    for (size_t k = 0; k < nops && merge; ++k)
      merge = (*strides[k])[size_t(d)] == out.strides[k].back() * out.sizes.back();
    if (merge) {
      out.sizes.back() *= size;
    } else {
      out.sizes.push_back(size);
      for (size_t k = 0; k < nops; ++k) out.strides[k].push_back((*strides[k])[size_t(d)]);
    }
  }
  if (out.sizes.empty()) {  // a single element
    out.sizes.push_back(1);
    for (size_t k = 0; k < nops; ++k) out.strides[k].push_back(1);
  }
  // Back to outermost-first order.
  std::reverse(out.sizes.begin(), out.sizes.end());
  for (auto& s : out.strides) std::reverse(s.begin(), s.end());
  return out;
}

template <int N> kernels::Strided<N> to_strided(const CoalescedLayout& layout, const char* op) {
  CLIPT_CHECK(layout.strides.size() == size_t(N), "{}: internal error: {} operand layouts for {} operands", op,
              layout.strides.size(), N);
  const size_t nd = layout.sizes.size();
  CLIPT_CHECK(nd <= size_t(kernels::kMaxDims),
              "{}: the CUDA kernels iterate at most {} dims after merging, this view needs {} (sizes {})", op,
              kernels::kMaxDims, nd, shape_str(layout.sizes));
  kernels::Strided<N> g;
  g.ndim = int32_t(nd);
  g.index32 = numel_of(layout.sizes) < (int64_t(1) << 32);
  for (size_t d = 0; d < nd; ++d) {
    g.sizes[d] = layout.sizes[d];
    for (int k = 0; k < N; ++k) g.strides[k][d] = layout.strides[size_t(k)][d];
  }
  return g;
}

template kernels::Strided<1> to_strided<1>(const CoalescedLayout&, const char*);
template kernels::Strided<2> to_strided<2>(const CoalescedLayout&, const char*);
template kernels::Strided<3> to_strided<3>(const CoalescedLayout&, const char*);

}  // namespace clipt::cuda
