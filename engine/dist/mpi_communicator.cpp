#include "engine/dist/mpi_communicator.h"

#include <climits>
#include <cstdlib>

namespace clipt::dist {

namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::F32: return MPI_FLOAT;
    case DType::F64: return MPI_DOUBLE;
    case DType::I64: return MPI_INT64_T;
    case DType::I32: return MPI_INT32_T;
    case DType::U8:
    case DType::Bool: return MPI_UINT8_T;
    case DType::F16:
    case DType::BF16: return MPI_UINT16_T;  // moved, never reduced (reductions run in f32)
  }
  fail("MPI: unsupported dtype {}", dtype_name(t));
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Mean: break;  // the base class turns a mean into a sum and a division
  }
  fail("MPI: reduction {} is not a native operation", int(op));
}

int checked_count(int64_t count, const char* what) {
  CLIPT_CHECK(count <= INT_MAX, "MPI {}: {} elements exceed MPI's int count", what, count);
  return int(count);
}

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail("MPI {} failed: {}", what, std::string(text, size_t(len)));
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// Elements per MPI call for the operations that may carry large buckets.
constexpr int64_t kChunk = int64_t(1) << 30;

}  // namespace

MpiWorld init_mpi_world() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "initialisation");
    std::atexit(finalize_at_exit);
  }
  MPI_Comm comm = MPI_COMM_NULL, node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm), "Comm_dup");
  // Errors come back as return codes (turned into clipt::Error) instead of aborting inside MPI.
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  MpiWorld w;
  w.comm = comm;
  MPI_Comm_rank(comm, &w.rank);
  MPI_Comm_size(comm, &w.size);
  check_mpi(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node), "Comm_split_type");
  MPI_Comm_rank(node, &w.local_rank);
  MPI_Comm_free(&node);
  return w;
}

MpiCommunicator::MpiCommunicator(const MpiWorld& w) : Communicator(w.rank, w.size, w.local_rank), comm_(w.comm) {}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

void MpiCommunicator::wait_request(const char* what, MPI_Request& request) {
  int rc = MPI_SUCCESS;
  wait_done(what, [&] {
    int flag = 0;
    rc = MPI_Test(&request, &flag, MPI_STATUS_IGNORE);
    return flag != 0 || rc != MPI_SUCCESS;
  });
  check_mpi(rc, what);
}

void MpiCommunicator::raw_all_reduce(void* buf, int64_t count, DType dtype, ReduceOp op, Device) {
  char* p = static_cast<char*>(buf);
  for (int64_t done = 0; done < count; done += kChunk) {
    const int n = int(std::min(kChunk, count - done));
    MPI_Request req;
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, p + done * int64_t(dtype_size(dtype)), n, mpi_type(dtype), mpi_op(op), comm_,
                             &req),
              "all_reduce");
    wait_request("all_reduce", req);
  }
}

void MpiCommunicator::raw_all_gather(const void* send, void* recv, int64_t count, DType dtype, Device) {
  const int n = checked_count(count, "all_gather");
  MPI_Request req;
  check_mpi(MPI_Iallgather(send, n, mpi_type(dtype), recv, n, mpi_type(dtype), comm_, &req), "all_gather");
  wait_request("all_gather", req);
}

void MpiCommunicator::raw_reduce_scatter(const void* send, void* recv, int64_t count, DType dtype, Device) {
  const int n = checked_count(count, "reduce_scatter");
  MPI_Request req;
  check_mpi(MPI_Ireduce_scatter_block(send, recv, n, mpi_type(dtype), MPI_SUM, comm_, &req), "reduce_scatter");
  wait_request("reduce_scatter", req);
}

void MpiCommunicator::raw_broadcast(void* buf, int64_t count, DType dtype, int root, Device) {
  char* p = static_cast<char*>(buf);
  for (int64_t done = 0; done < count; done += kChunk) {
    const int n = int(std::min(kChunk, count - done));
    MPI_Request req;
    check_mpi(MPI_Ibcast(p + done * int64_t(dtype_size(dtype)), n, mpi_type(dtype), root, comm_, &req), "broadcast");
    wait_request("broadcast", req);
  }
}

void MpiCommunicator::raw_barrier() {
  MPI_Request req;
  check_mpi(MPI_Ibarrier(comm_, &req), "barrier");
  wait_request("barrier", req);
}

void MpiCommunicator::kill_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this keeps [[noreturn]] honest if an MPI does
}

}  // namespace clipt::dist
