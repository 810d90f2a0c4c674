// The NCCL backend: collectives on device buffers, one device per rank (the local rank, modulo the
// visible devices), on the engine's current stream of that device. The NCCL unique id is broadcast over
// MPI, which also carries host tensors (counts, losses) and the job abort. Operations are polled with
// cudaStreamQuery and ncclCommGetAsyncError under the collective timeout; a timeout aborts the NCCL
// communicator (ncclCommAbort) before the job, so no rank stays blocked in a kernel.
// Built only when CMake finds NCCL and MPI with the CUDA backend (CLIPT_WITH_NCCL).
#include <nccl.h>

#include "engine/core/backend.h"
#include "engine/dist/mpi_communicator.h"
#include "engine/runtime/context.h"
#include "engine/runtime/cuda_check.h"

namespace clipt::dist {

namespace {

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::F32: return ncclFloat32;
    case DType::F64: return ncclFloat64;
    case DType::F16: return ncclFloat16;
    case DType::BF16: return ncclBfloat16;
    case DType::I32: return ncclInt32;
    case DType::I64: return ncclInt64;
    case DType::U8:
    case DType::Bool: return ncclUint8;
  }
  fail("NCCL: unsupported dtype {}", dtype_name(t));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Mean: return ncclAvg;
  }
  fail("NCCL: unknown reduction {}", int(op));
}

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc == ncclSuccess || rc == ncclInProgress) return;
  fail("NCCL {} failed: {} ({})", what, ncclGetErrorString(rc), ncclGetLastError(nullptr));
}

}  // namespace

class NcclCommunicator final : public MpiCommunicator {
 public:
  explicit NcclCommunicator(const MpiWorld& world) : MpiCommunicator(world) {}
  ~NcclCommunicator() override;
  std::string backend() const override { return "nccl"; }

 protected:
  Device staging_device(Device d) const override { return d.is_cuda() ? d : Device::cpu(); }
  void raw_all_reduce(void* buf, int64_t count, DType dtype, ReduceOp op, Device d) override;
  void raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device d) override;
  void raw_reduce_scatter(const void* send, void* recv, int64_t count, DType dtype, Device d) override;
  void raw_broadcast(void* buf, int64_t count, DType dtype, int root, Device d) override;
  [[noreturn]] void kill_job(int code) override;

 private:
  // The communicator of this rank's device, created on the first device collective (all ranks reach
  // it together: collectives are called in the same order everywhere).
  ncclComm_t comm_for(Device d);
  // Waits for the stream of the operation just issued, under the timeout, then checks NCCL's errors.
  void finish(const char* what, Device d);

  ncclComm_t nccl_ = nullptr;
};

NcclCommunicator::~NcclCommunicator() {
  if (nccl_) ncclCommDestroy(nccl_);
}

ncclComm_t NcclCommunicator::comm_for(Device d) {
  const int device = local_rank() % std::max(1, cuda_device_count());
  CLIPT_CHECK(d.index == device,
              "NCCL: rank {} (local rank {}) owns cuda:{}, but the collective's tensor is on {}; run with --device "
              "cuda so that each rank takes the device of its local rank",
              rank(), local_rank(), device, d.str());
  if (nccl_) return nccl_;
  ncclUniqueId id;
  if (rank() == 0) check_nccl(ncclGetUniqueId(&id), "GetUniqueId");
  MPI_Request req;
  MPI_Ibcast(&id, int(sizeof(id)), MPI_BYTE, 0, comm(), &req);
  wait_request("NCCL bootstrap (unique id broadcast)", req);
  cuda::DeviceGuard guard(device);
  check_nccl(ncclCommInitRank(&nccl_, world_size(), id, rank()), "CommInitRank");
  return nccl_;
}

void NcclCommunicator::finish(const char* what, Device d) {
  cudaStream_t stream = cuda::current_stream(d.index);
  cudaError_t status = cudaSuccess;
  ncclResult_t async = ncclSuccess;
  wait_done(what, [&] {
    ncclCommGetAsyncError(nccl_, &async);
    if (async != ncclSuccess && async != ncclInProgress) return true;
    status = cudaStreamQuery(stream);
    return status != cudaErrorNotReady;
  });
  if (async != ncclSuccess && async != ncclInProgress) {
    ncclCommAbort(nccl_);
    nccl_ = nullptr;
    fail("NCCL {} failed on rank {}: {}", what, rank(), ncclGetErrorString(async));
  }
  CLIPT_CUDA_CHECK(status);
}

void NcclCommunicator::raw_all_reduce(void* buf, int64_t count, DType dtype, ReduceOp op, Device d) {
  if (!d.is_cuda()) return MpiCommunicator::raw_all_reduce(buf, count, dtype, op, d);
  ncclComm_t c = comm_for(d);
  check_nccl(ncclAllReduce(buf, buf, size_t(count), nccl_type(dtype), nccl_op(op), c, cuda::current_stream(d.index)),
             "all_reduce");
  finish("all_reduce", d);
}

void NcclCommunicator::raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device d) {
  if (!d.is_cuda()) return MpiCommunicator::raw_all_gather(send, recv, count, dtype, d);
  ncclComm_t c = comm_for(d);
  check_nccl(ncclAllGather(send, recv, size_t(count), nccl_type(dtype), c, cuda::current_stream(d.index)),
             "all_gather");
  finish("all_gather", d);
}

void NcclCommunicator::raw_reduce_scatter(const void* send, void* recv, int64_t count, DType dtype, Device d) {
  if (!d.is_cuda()) return MpiCommunicator::raw_reduce_scatter(send, recv, count, dtype, d);
  ncclComm_t c = comm_for(d);
  check_nccl(ncclReduceScatter(send, recv, size_t(count), nccl_type(dtype), ncclSum, c, cuda::current_stream(d.index)),
             "reduce_scatter");
  finish("reduce_scatter", d);
}

void NcclCommunicator::raw_broadcast(void* buf, int64_t count, DType dtype, int root, Device d) {
  if (!d.is_cuda()) return MpiCommunicator::raw_broadcast(buf, count, dtype, root, d);
  ncclComm_t c = comm_for(d);
  check_nccl(ncclBroadcast(buf, buf, size_t(count), nccl_type(dtype), root, c, cuda::current_stream(d.index)),
             "broadcast");
  finish("broadcast", d);
}

void NcclCommunicator::kill_job(int code) {
  if (nccl_) ncclCommAbort(nccl_);  // frees ranks blocked in NCCL kernels before MPI kills the job
  nccl_ = nullptr;
  MpiCommunicator::kill_job(code);
}

std::unique_ptr<Communicator> make_nccl_communicator(const MpiWorld& world) {
  return std::make_unique<NcclCommunicator>(world);
}

}  // namespace clipt::dist
