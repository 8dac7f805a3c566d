#pragma once
// The key a hashing balancer hashes, taken from the request once, when the exchange starts:
// the client's address for `source`, and for `hash` the request-target, a header or a cookie,
// as the operator chose (HAProxy's `balance uri`, `hdr(NAME)`, `cookie NAME`).

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/pool.hpp"

namespace c10k::http {
struct Request;
}

namespace c10k::proxy {

/// What `Balance::hash` hashes.
struct HashKey {
    enum class Source : std::uint8_t {
        uri,     ///< the request-target as sent, query included
        header,  ///< the first header called `name`
        cookie,  ///< the cookie called `name` in the Cookie header(s)
    };
    Source source = Source::uri;
    std::string name;  ///< the header or cookie name
};

/// Parses "uri", "header:NAME" or "cookie:NAME". Returns false, with a sentence in `error`,
/// for anything else.
bool parse_hash_key(std::string_view text, HashKey& out, std::string& error);

/// The key `balance` hashes for `request`: empty for balancers that hash nothing, and when the
/// request lacks the header or cookie (the pool then balances that request round robin, as
/// HAProxy does, rather than sending every such request to one server).
std::string balance_key(const http::Request& request, Balance balance, const HashKey& key);

/// The value of the cookie `name` in one Cookie header ("a=1; b=2"), without the quotes a
/// value may carry; empty when it is absent. Names are compared exactly (they are
/// case-sensitive, RFC 6265 5.4).
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

}  // namespace c10k::proxy
