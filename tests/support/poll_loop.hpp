#pragma once
// The poll(2) loop that drives handler-side clients (the Redis client, the backplane) in tests.

#include "http/poll_loop.hpp"

namespace c10k::test {

using PollLoop = http::PollLoop;

}  // namespace c10k::test
