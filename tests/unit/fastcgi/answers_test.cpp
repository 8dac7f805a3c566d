// The pieces the CGI and FastCGI handlers share (cgi/answers.hpp).
#include "cgi/answers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/response.hpp"

namespace c10k::cgi {
namespace {

struct Place {
    std::string prefix;
};

TEST(CgiAnswers, TheFirstMatchingPrefixWins) {
    std::vector<Place> places{{"/cgi-bin/"}, {"/"}, {"/cgi-bin/deep/"}};
    EXPECT_EQ(match_location("/cgi-bin/deep/x", places), 0u);
    EXPECT_EQ(match_location("/index.php", places), 1u);
    std::vector<Place> none{{"/app/"}};
    EXPECT_FALSE(match_location("/other", none).has_value());
    EXPECT_FALSE(match_location("/app", none).has_value());  // the prefix ends in '/'
}

TEST(CgiAnswers, ErrorsNameTheLayerAndBusyOnesSayWhenToComeBack) {
    http::Response busy;
    answer_error(busy, "fastcgi", 503, "the queue is full");
    EXPECT_EQ(busy.status(), 503);
    EXPECT_NE(busy.header_lines().find("Retry-After: 1\r\n"), std::string::npos);
    EXPECT_NE(busy.text().find("c10k fastcgi: 503 Service Unavailable: the queue is full"),
              std::string::npos);
    http::Response missing;
    answer_error(missing, "cgi", 404, "no such program");
    EXPECT_EQ(missing.status(), 404);
    EXPECT_EQ(missing.header_lines().find("Retry-After"), std::string::npos);
    EXPECT_NE(missing.text().find("c10k cgi: 404 Not Found: no such program"), std::string::npos);
}

TEST(CgiAnswers, PortComesFromTheHostHeader) {
    EXPECT_EQ(port_of("example.org:8080"), "8080");
    EXPECT_EQ(port_of("example.org"), "80");
    EXPECT_EQ(port_of("[::1]:81"), "81");
    EXPECT_EQ(port_of("[::1]"), "80");
    EXPECT_EQ(port_of(""), "80");
}

}  // namespace
}  // namespace c10k::cgi
