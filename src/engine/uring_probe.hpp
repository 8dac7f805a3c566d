#pragma once
// Setting up an io_uring for the uring engine, and finding out at start whether that works
// here (kernel version, kernel.io_uring_disabled, seccomp filters in containers all decide).

#include <liburing.h>

#include <string>

namespace c10k::engine {

/// Opens `ring` with the flags that suit one loop per thread (SINGLE_ISSUER, DEFER_TASKRUN),
/// dropping them one by one on kernels that refuse them. Returns 0 or a negative errno.
int open_uring(io_uring& ring, unsigned entries);

/// A sentence for a failed io_uring call: the call, strerror, and the likely cause.
std::string describe_uring_error(const char* call, int error);

}  // namespace c10k::engine
