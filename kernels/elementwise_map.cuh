// Generic element-wise kernels: y[i] = f(x[i]) and y[i] = f(a[i], b[i]) over a contiguous output, with a
// 128-bit vectorised path for contiguous, aligned operands and a strided path (up to kMaxDims dims, stride
// 0 for broadcast) for views. The path is chosen once per launch, so the branch is uniform.
#pragma once
#include "kernels/device_common.cuh"

namespace clipt::kernels {

enum class MapMode : int { Contiguous = 0, Vector = 1, Strided = 2 };

// Elements per vector step: one 128-bit load of the input, at most 8 elements.
template <typename In> inline constexpr int kMapVec = (16 / sizeof(In)) > 8 ? 8 : int(16 / sizeof(In));

template <typename In, typename Out, typename F> __global__ void __launch_bounds__(kThreads)
    map1_kernel(const In* x, Out* y, int64_t n, Strided<1> geo, MapMode mode, F f) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  if (mode == MapMode::Vector) {
    constexpr int V = kMapVec<In>;
    const int64_t nv = n / V;
    for (int64_t v = tid; v < nv; v += step) {
      const Vec<In, V> a = load_vec<In, V>(x + v * V);
      Vec<Out, V> o;
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = f(a.v[j]);
      store_vec<Out, V>(y + v * V, o);
    }
    for (int64_t i = nv * V + tid; i < n; i += step) y[i] = f(x[i]);
  } else if (mode == MapMode::Contiguous) {
    for (int64_t i = tid; i < n; i += step) y[i] = f(x[i]);
  } else {
    for (int64_t i = tid; i < n; i += step) {
      int64_t off[1];
      strided_offsets(geo, i, off);
      y[i] = f(x[off[0]]);
    }
  }
}

template <typename In, typename Out, typename F>
void launch_map1(const In* x, Out* y, int64_t n, const Strided<1>* geo, F f, cudaStream_t stream) {
  constexpr int V = kMapVec<In>;
  MapMode mode = MapMode::Strided;
  if (geo == nullptr)
    mode = n >= V && vec_aligned<In, V>(x) && vec_aligned<Out, V>(y) ? MapMode::Vector : MapMode::Contiguous;
  const Strided<1> g = geo ? *geo : Strided<1>{};
  const int64_t work = mode == MapMode::Vector ? n / V : n;
  map1_kernel<In, Out, F><<<grid_for(work), kThreads, 0, stream>>>(x, y, n, g, mode, f);
}

template <typename In, typename Out, typename F> __global__ void __launch_bounds__(kThreads)
    map2_kernel(const In* a, const In* b, Out* y, int64_t n, Strided<2> geo, MapMode mode, F f) {
  const int64_t tid = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  if (mode == MapMode::Vector) {
    constexpr int V = kMapVec<In>;
    const int64_t nv = n / V;
    for (int64_t v = tid; v < nv; v += step) {
      const Vec<In, V> va = load_vec<In, V>(a + v * V);
      const Vec<In, V> vb = load_vec<In, V>(b + v * V);
      Vec<Out, V> o;
#pragma unroll
      for (int j = 0; j < V; ++j) o.v[j] = f(va.v[j], vb.v[j]);
      store_vec<Out, V>(y + v * V, o);
    }
    for (int64_t i = nv * V + tid; i < n; i += step) y[i] = f(a[i], b[i]);
  } else if (mode == MapMode::Contiguous) {
    for (int64_t i = tid; i < n; i += step) y[i] = f(a[i], b[i]);
  } else {
    for (int64_t i = tid; i < n; i += step) {
      int64_t off[2];
      strided_offsets(geo, i, off);
      y[i] = f(a[off[0]], b[off[1]]);
    }
  }
}

template <typename In, typename Out, typename F>
void launch_map2(const In* a, const In* b, Out* y, int64_t n, const Strided<2>* geo, F f, cudaStream_t stream) {
  constexpr int V = kMapVec<In>;
  MapMode mode = MapMode::Strided;
  if (geo == nullptr)
    mode = n >= V && vec_aligned<In, V>(a) && vec_aligned<In, V>(b) && vec_aligned<Out, V>(y) ? MapMode::Vector
                                                                                              : MapMode::Contiguous;
  const Strided<2> g = geo ? *geo : Strided<2>{};
  const int64_t work = mode == MapMode::Vector ? n / V : n;
  map2_kernel<In, Out, F><<<grid_for(work), kThreads, 0, stream>>>(a, b, y, n, g, mode, f);
}

}  // namespace clipt::kernels
