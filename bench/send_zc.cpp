// Does io_uring's zero-copy send (IORING_OP_SEND_ZC) pay for c10k's bodies? A yardstick, not a
// server: one TCP connection on loopback, a sender thread on CPU 0 that keeps DEPTH sends of
// SIZE bytes in flight through io_uring (plain IORING_OP_SEND, or SEND_ZC with the kernel asked
// to report whether it had to copy after all), and a receiver thread on CPU 1 that reads and
// discards. Each mode runs for a fixed time; the figures are each thread's CPU per MiB moved.
// A zero-copy buffer is reused only after its notification, as the API requires.
// Build and run by hand (docs/BENCHMARKS.md, "Zero-copy sends"):
//   g++ -O2 -std=c++20 -o /tmp/send_zc bench/send_zc.cpp -luring -lpthread && /tmp/send_zc 5
//
// usage: send_zc [SECONDS] [SIZE...]      (default 2 s; 4096 16384 65536 1048576)

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

// Kernel 6.2's ABI; liburing 2.3's copy of the header predates them.
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace {

constexpr unsigned kDepth = 8;

double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double now_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

// A connected pair over 127.0.0.1: [0] the sender's end, [1] the receiver's.
std::pair<int, int> loopback_pair() {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        die("listen");
    int sender = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(sender, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        die("connect");
    int receiver = ::accept(listener, nullptr, nullptr);
    if (receiver < 0) die("accept");
    ::close(listener);
    int one = 1;
    ::setsockopt(sender, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {sender, receiver};
}

struct Result {
    double seconds = 0, bytes = 0, sender_cpu = 0, receiver_cpu = 0;
    unsigned long notifications = 0, copied = 0;
};

// Keeps kDepth sends in flight for `duration` seconds. A slot is free again after its send's
// completion and, for SEND_ZC, after its notification (IORING_CQE_F_NOTIF) as well.
void send_for(int fd, bool zero_copy, std::size_t size, double duration, Result& result) {
    io_uring ring{};
    if (int error = ::io_uring_queue_init(64, &ring, 0); error < 0) {
        std::fprintf(stderr, "io_uring_queue_init: %s\n", std::strerror(-error));
        std::exit(1);
    }
    std::vector<std::vector<char>> buffers(kDepth, std::vector<char>(size, 'x'));
    std::vector<int> pending(kDepth, 0);  // completions still due per slot
    auto submit = [&](unsigned slot) {
        io_uring_sqe* sqe = ::io_uring_get_sqe(&ring);
        if (zero_copy) {
            ::io_uring_prep_send_zc(sqe, fd, buffers[slot].data(), size, MSG_WAITALL, 0);
            sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
            pending[slot] = 2;  // the send's result, then the notification
        } else {
            ::io_uring_prep_send(sqe, fd, buffers[slot].data(), size, MSG_WAITALL);
            pending[slot] = 1;
        }
        ::io_uring_sqe_set_data64(sqe, slot);
    };
    const double cpu_start = thread_cpu_seconds();
    const double start = now_seconds();
    for (unsigned slot = 0; slot < kDepth; ++slot) submit(slot);
    bool stopping = false;
    unsigned outstanding = kDepth;
    while (outstanding > 0) {
        ::io_uring_submit_and_wait(&ring, 1);
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            ++seen;
            const auto slot = static_cast<unsigned>(::io_uring_cqe_get_data64(cqe));
            if (cqe->flags & IORING_CQE_F_NOTIF) {
                ++result.notifications;
                if (static_cast<unsigned>(cqe->res) & IORING_NOTIF_USAGE_ZC_COPIED) ++result.copied;
            } else if (cqe->res < 0) {
                std::fprintf(stderr, "send: %s\n", std::strerror(-cqe->res));
                std::exit(1);
            } else {
                result.bytes += cqe->res;
            }
            if (--pending[slot] > 0) continue;
            if (!stopping && now_seconds() - start >= duration) stopping = true;
            if (stopping) --outstanding;
            else submit(slot);
        }
        ::io_uring_cq_advance(&ring, seen);
    }
    result.seconds = now_seconds() - start;
    result.sender_cpu = thread_cpu_seconds() - cpu_start;
    ::io_uring_queue_exit(&ring);
}

Result run(bool zero_copy, std::size_t size, double duration) {
    auto [sender, receiver] = loopback_pair();
    Result result;
    std::thread reader([&, fd = receiver] {
        pin(1);
        std::vector<char> sink(1 << 20);
        const double cpu_start = thread_cpu_seconds();
        while (::read(fd, sink.data(), sink.size()) > 0) {
        }
        result.receiver_cpu = thread_cpu_seconds() - cpu_start;
    });
    pin(0);
    send_for(sender, zero_copy, size, duration, result);
    ::shutdown(sender, SHUT_WR);
    reader.join();
    ::close(sender);
    ::close(receiver);
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    const double duration = argc > 1 ? std::atof(argv[1]) : 2.0;
    std::vector<std::size_t> sizes;
    for (int i = 2; i < argc; ++i) sizes.push_back(std::strtoull(argv[i], nullptr, 10));
    if (sizes.empty()) sizes = {4096, 16384, 65536, 1048576};
    if (duration <= 0) {
        std::fprintf(stderr, "usage: send_zc [SECONDS] [SIZE...]\n");
        return 2;
    }
    std::printf("%-9s %-5s %9s %16s %18s %13s\n", "size", "mode", "MiB/s", "sender us/MiB",
                "receiver us/MiB", "copied/notif");
    for (std::size_t size : sizes) {
        for (bool zero_copy : {false, true}) {
            Result r = run(zero_copy, size, duration);
            const double mib = r.bytes / (1 << 20);
            std::printf("%-9zu %-5s %9.0f %16.1f %18.1f %6lu/%lu\n", size, zero_copy ? "zc" : "copy",
                        mib / r.seconds, r.sender_cpu * 1e6 / mib, r.receiver_cpu * 1e6 / mib,
                        r.copied, r.notifications);
        }
    }
    return 0;
}
