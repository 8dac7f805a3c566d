#pragma once
// The overload tests' tally of the answers to a queue of --synthetic-cost requests: each must
// be the handler's 200 with its whole body, or overload control's canned 503 with
// Retry-After: 1 (docs/OVERLOAD.md); nothing else, and nothing cut short.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace c10k::test {

struct ShedTally {
    std::size_t served = 0;
    std::size_t shed = 0;
    std::size_t served_after_shed = 0;  ///< 200s that came later in the list than a 503
};

/// Checks every answer (a 200 carries `body` whole, anything else is the canned 503) and
/// counts them.
inline ShedTally tally_shed_answers(const std::vector<HttpResponse>& answers,
                                    const std::string& body) {
    ShedTally tally;
    for (const HttpResponse& r : answers) {
        if (r.status == 200) {
            EXPECT_EQ(r.body, body);
            ++tally.served;
            if (tally.shed > 0) ++tally.served_after_shed;
        } else {
            EXPECT_EQ(r.status, 503);
            EXPECT_EQ(r.header("Retry-After"), "1");
            ++tally.shed;
        }
    }
    return tally;
}

}  // namespace c10k::test
