#pragma once
// An endpoint from its text, failing the test (not throwing) when the text is not one.

#include <gtest/gtest.h>

#include <string>

#include "core/net.hpp"

namespace c10k::test {

inline core::Endpoint endpoint(const std::string& text) {
    core::Endpoint result;
    std::string error;
    EXPECT_TRUE(core::parse_endpoint(text, result, error)) << error;
    return result;
}

}  // namespace c10k::test
