#include "engine/uring_probe.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/core.h>

#include "engine/engines.hpp"

namespace c10k::engine {

int open_uring(io_uring& ring, unsigned entries) {
    // SINGLE_ISSUER + DEFER_TASKRUN: completions run only when this loop asks for them, on its
    // own thread, with no inter-processor interrupt; COOP_TASKRUN is the older half of that.
    const unsigned attempts[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
        IORING_SETUP_COOP_TASKRUN | IORING_SETUP_CQSIZE,
        IORING_SETUP_CQSIZE,
    };
    int result = -EINVAL;
    for (unsigned flags : attempts) {
        io_uring_params params{};
        params.flags = flags | IORING_SETUP_SUBMIT_ALL;
        params.cq_entries = entries * 4;  // multishot receives complete many times per submit
        result = io_uring_queue_init_params(entries, &ring, &params);
        if (result != -EINVAL) return result;
    }
    return result;
}

std::string describe_uring_error(const char* call, int error) {
    std::string_view hint;
    switch (error) {
        case EPERM:
            hint = "io_uring is disabled (sysctl kernel.io_uring_disabled) or forbidden by a "
                   "seccomp filter, as containers often do";
            break;
        case ENOSYS:
            hint = "this kernel was built without io_uring";
            break;
        case ENOMEM:
            hint = "not enough locked memory (RLIMIT_MEMLOCK) for the rings";
            break;
        case EINVAL:
            hint = "this kernel is too old for the io_uring features the engine uses (5.19+)";
            break;
        default:
            break;
    }
    if (hint.empty()) return fmt::format("{}: {}", call, std::strerror(error));
    return fmt::format("{}: {} ({})", call, std::strerror(error), hint);
}

namespace {

std::string probe() {
    const char* disabled = std::getenv("C10K_URING_DISABLE");
    if (disabled != nullptr && *disabled != '\0' && std::string_view(disabled) != "0") {
        return describe_uring_error("io_uring_setup", EPERM) +
               " [simulated: C10K_URING_DISABLE is set]";
    }
    io_uring ring;
    int result = open_uring(ring, 8);
    if (result < 0) return describe_uring_error("io_uring_setup", -result);
    std::string reason;
    if (io_uring_probe* ops = io_uring_get_probe_ring(&ring)) {
        const std::pair<int, const char*> needed[] = {
            {IORING_OP_ACCEPT, "ACCEPT"},   {IORING_OP_RECV, "RECV"},
            {IORING_OP_SEND, "SEND"},       {IORING_OP_SENDMSG, "SENDMSG"},
            {IORING_OP_SPLICE, "SPLICE"},   {IORING_OP_POLL_ADD, "POLL_ADD"},
            {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
        };
        for (auto [op, name] : needed) {
            if (!io_uring_opcode_supported(ops, op)) {
                reason = fmt::format("io_uring lacks the {} operation (kernel too old)", name);
                break;
            }
        }
        io_uring_free_probe(ops);
    } else {
        reason = "io_uring cannot be probed for its operations (kernel older than 5.6)";
    }
    if (reason.empty()) {
        // Provided buffer rings (5.19) are what multishot receive needs: try to register one.
        std::size_t bytes = 4096;
        void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
        if (memory == MAP_FAILED) {
            reason = fmt::format("mmap: {}", std::strerror(errno));
        } else {
            io_uring_buf_reg registration{};
            registration.ring_addr = reinterpret_cast<std::uint64_t>(memory);
            registration.ring_entries = 8;
            registration.bgid = 0;
            int registered = io_uring_register_buf_ring(&ring, &registration, 0);
            if (registered < 0) {
                reason = describe_uring_error("io_uring_register_buf_ring", -registered);
            } else {
                io_uring_unregister_buf_ring(&ring, 0);
            }
            ::munmap(memory, bytes);
        }
    }
    io_uring_queue_exit(&ring);
    return reason;
}

}  // namespace

std::string uring_unavailable_reason() {
    static const std::string reason = probe();
    return reason;
}

}  // namespace c10k::engine
