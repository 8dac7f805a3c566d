#include "http/date.hpp"

#include <cstdio>
#include <cstring>

namespace c10k::http {

namespace {
constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_index(std::string_view name) {
    for (int i = 0; i < 12; ++i) {
        if (name == kMonths[i]) return i;
    }
    return -1;
}

bool parse_digits(std::string_view text, int& out) {
    if (text.empty() || text.size() > 4) return false;
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

std::optional<std::time_t> make_time(int year, int month, int day, int h, int m, int s) {
    if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 || year < 1970)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    // A leap second (:60) is read as :59, as POSIX time has no leap seconds: normalised forward
    // it would turn 31 Dec 9999 23:59:60 into a year that no HTTP-date can write.
    tm.tm_sec = s == 60 ? 59 : s;
    return timegm(&tm);
}

bool parse_clock(std::string_view text, int& h, int& m, int& s) {
    return text.size() == 8 && text[2] == ':' && text[5] == ':' &&
           parse_digits(text.substr(0, 2), h) && parse_digits(text.substr(3, 2), m) &&
           parse_digits(text.substr(6, 2), s);
}
}  // namespace

std::string format_http_date(std::time_t when) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buffer;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    int day = 0, year = 0, h = 0, m = 0, s = 0;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    if (text.size() == 29 && text[3] == ',' && text.substr(25) == " GMT") {
        if (!parse_digits(text.substr(5, 2), day) || !parse_digits(text.substr(12, 4), year) ||
            !parse_clock(text.substr(17, 8), h, m, s))
            return std::nullopt;
        return make_time(year, month_index(text.substr(8, 3)), day, h, m, s);
    }
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    auto comma = text.find(", ");
    if (comma != std::string_view::npos && comma >= 6 && text.size() == comma + 24 &&
        text.substr(text.size() - 4) == " GMT") {
        std::string_view rest = text.substr(comma + 2);
        if (rest[2] != '-' || rest[6] != '-' || !parse_digits(rest.substr(0, 2), day) ||
            !parse_digits(rest.substr(7, 2), year) || !parse_clock(rest.substr(10, 8), h, m, s))
            return std::nullopt;
        year += year < 70 ? 2000 : 1900;
        return make_time(year, month_index(rest.substr(3, 3)), day, h, m, s);
    }
    // asctime: "Sun Nov  6 08:49:37 1994"
    if (text.size() == 24 && text[3] == ' ' && text[7] == ' ') {
        std::string_view day_text = text.substr(8, 2);
        if (day_text[0] == ' ') day_text.remove_prefix(1);
        if (!parse_digits(day_text, day) || !parse_clock(text.substr(11, 8), h, m, s) ||
            !parse_digits(text.substr(20, 4), year))
            return std::nullopt;
        return make_time(year, month_index(text.substr(4, 3)), day, h, m, s);
    }
    return std::nullopt;
}

}  // namespace c10k::http
