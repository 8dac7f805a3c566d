#include "inetd/connection_rate.hpp"

namespace c10k::inetd {

bool ConnectionRate::admit(std::int64_t now_ms) {
    if (per_second_ == 0) return true;
    if (in_window_ == 0 || now_ms - window_start_ms_ >= 1000) {
        window_start_ms_ = now_ms;
        in_window_ = 0;
    }
    if (++in_window_ <= per_second_) return true;
    // One too many: off for the wait, and a fresh window afterwards (the connections of the
    // burst that stopped the service do not count against the next second's).
    resume_at_ms_ = now_ms + wait_ms_;
    in_window_ = 0;
    return false;
}

}  // namespace c10k::inetd
