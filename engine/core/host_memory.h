// Host memory held by tensor storages from allocate_storage (bytes as allocated: rounded up to 64) and
// its high-water mark since the last reset. A cheap counter (two relaxed atomics per allocation, kept in
// storage.cpp) for benchmarks and memory tests; device memory has its own statistics (runtime/memory.h).
#pragma once
#include <cstdint>

namespace clipt {

struct HostMemoryStats {
  uint64_t current = 0;
  uint64_t peak = 0;
};
HostMemoryStats host_memory_stats();
void reset_host_memory_peak();  // the peak back to the current value

}  // namespace clipt
