// OpenBLAS picks its kernels for the CPU when the library loads. Debian 12's OpenBLAS 0.3.21 does not know
// CPUs released after it (Intel Sapphire and Emerald Rapids among them) and falls back to its Prescott
// (SSE3) kernels: f32 GEMMs 4–5× slower than the AVX-512 ones it carries (single-threaded 384³ sgemm on
// this project's 2-core Xeon, family 6 model 207: 16–19 GFLOP/s as Prescott, 86 as SkylakeX). The choice
// can only be made before the library loads, through OPENBLAS_CORETYPE, so a program that finds the
// fallback on a CPU with AVX-512 (or AVX2) sets it and executes itself again, once, before anything else.
#pragma once
#include <string>

namespace clipt::cpu {

// The kernel set OpenBLAS runs ("Prescott", "SkylakeX", ...).
std::string blas_core_name();

// Whether `name` is one of OpenBLAS's SSE-era kernel sets, which it falls back to for CPUs it does not know.
bool is_generic_blas_core(const std::string& name);

// The kernel set this CPU can run that is better than a generic fallback: "SkylakeX" (AVX-512 F/CD/BW/DQ/VL),
// "Haswell" (AVX2 + FMA), or "" (none better, or not x86-64).
std::string native_blas_core();

// Called first thing in main(): when OpenBLAS runs a generic fallback on a CPU that has a better kernel
// set, and neither OPENBLAS_CORETYPE nor CLIPT_KEEP_BLAS_CORE is set, sets OPENBLAS_CORETYPE and
// re-executes the program with the same arguments (same process, so launchers such as mpirun do not
// notice). Returns only when nothing needs doing or the re-execution failed (then OpenBLAS stays as it is).
void use_native_blas_kernels(char** argv);

}  // namespace clipt::cpu
