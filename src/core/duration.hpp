#pragma once
// Durations as people write them on a command line: "10s", "250ms", "2m", "1h", "500us".
// A bare number is read in the unit the caller names (seconds for timeouts, for example).

#include <cstdint>
#include <string>
#include <string_view>

namespace c10k::core {

/// Parses `text` into microseconds. `bare_unit_us` is the unit of a number without a suffix.
/// Returns false, with a sentence in `error`, for anything else.
bool parse_duration_us(std::string_view text, std::int64_t bare_unit_us, std::int64_t& out,
                       std::string& error);

}  // namespace c10k::core
