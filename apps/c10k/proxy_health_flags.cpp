#include "proxy_health_flags.hpp"

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "proxy_flags.hpp"

namespace c10k::app {

namespace {

void parse_check(const ProxyFlags& flags, proxy::HealthCheck& check) {
    using Kind = proxy::HealthCheck::Kind;
    constexpr std::string_view kHttp = "http:";
    std::string_view text = flags.health_check;
    if (text.empty() || text == "off") {
        check.kind = Kind::off;
    } else if (text == "tcp") {
        check.kind = Kind::tcp;
    } else if (text.starts_with(kHttp) && text.size() > kHttp.size() && text[kHttp.size()] == '/' &&
               text.find_first_of(" \t\r\n") == std::string_view::npos) {
        check.kind = Kind::http;
        check.path = std::string(text.substr(kHttp.size()));
    } else {
        throw std::runtime_error(fmt::format(
            "--health-check: '{}' is not a check (known: tcp, a connect succeeds; http:/PATH, "
            "a GET of PATH answers a status in --health-expect; off)",
            text));
    }
    std::string error;
    if (!proxy::parse_status_ranges(flags.health_expect, check.expect, error)) {
        throw std::runtime_error("--health-expect: " + error);
    }
    check.interval_ms = flag_ms("--health-interval", flags.health_interval);
    check.timeout_ms = flag_ms("--health-timeout", flags.health_timeout);
    if (check.timeout_ms > check.interval_ms) {
        throw std::runtime_error(fmt::format(
            "--health-timeout: {} is longer than --health-interval {}; a check must end before "
            "the next one starts",
            flags.health_timeout, flags.health_interval));
    }
    if (flags.health_rise < 1 || flags.health_rise > 100) {
        throw std::runtime_error(fmt::format(
            "--health-rise: {} is not from 1 to 100 (passes in a row that bring a server up)",
            flags.health_rise));
    }
    if (flags.health_fall < 1 || flags.health_fall > 100) {
        throw std::runtime_error(fmt::format(
            "--health-fall: {} is not from 1 to 100 (failures in a row that take a server down)",
            flags.health_fall));
    }
    check.rise = flags.health_rise;
    check.fall = flags.health_fall;
}

std::uint32_t parse_percent(const std::string& text) {
    std::string_view number = text;
    if (number.ends_with('%')) number.remove_suffix(1);
    std::uint32_t percent = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), percent);
    if (number.empty() || error != std::errc{} || end != number.data() + number.size() ||
        percent > 100) {
        throw std::runtime_error(fmt::format(
            "--max-ejected: '{}' is not a share of the pool from 0% to 100% (e.g. 50%)", text));
    }
    return percent;
}

}  // namespace

void add_health_flags(CLI::App& command, ProxyFlags& flags) {
    command.add_option("--health-check", flags.health_check,
                       "Active checks of every server: tcp (a connect succeeds) or http:/PATH "
                       "(GET PATH answers a status in --health-expect); off by default");
    command
        .add_option("--health-expect", flags.health_expect,
                    "Statuses an http check accepts: a range (200-399) or a list (200,204)")
        ->capture_default_str();
    command.add_option("--health-interval", flags.health_interval, "Time between two checks")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--health-timeout", flags.health_timeout,
                    "A check with no result this long fails")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--health-rise", flags.health_rise,
                    "Checks passed in a row that bring a down server up")
        ->capture_default_str();
    command
        .add_option("--health-fall", flags.health_fall,
                    "Checks failed in a row that take a server down")
        ->capture_default_str();
    command
        .add_option("--eject-after", flags.eject_after,
                    "Failed requests in a row (connect, reset, timeout, bad answer) that eject a "
                    "server for a while, per loop; 0: never")
        ->capture_default_str();
    command.add_flag("--eject-on-5xx", flags.eject_on_5xx,
                     "5xx answers count as failed requests for --eject-after");
    command
        .add_option("--eject-time", flags.eject_time,
                    "An ejection lasts this long times the server's ejections so far")
        ->capture_default_str()
        ->type_name("DURATION");
    command.add_option("--eject-max-time", flags.eject_max_time, "The longest an ejection lasts")
        ->capture_default_str()
        ->type_name("DURATION");
    command
        .add_option("--max-ejected", flags.max_ejected,
                    "The most of the pool ejected at once (one server always stays)")
        ->capture_default_str();
}

void parse_health(const ProxyFlags& flags, proxy::PoolSpec& pool) {
    parse_check(flags, pool.health);
    pool.eject_after = flags.eject_after;
    pool.eject_on_5xx = flags.eject_on_5xx;
    pool.eject_time_ms = flag_ms("--eject-time", flags.eject_time);
    pool.eject_max_time_ms = flag_ms("--eject-max-time", flags.eject_max_time);
    if (pool.eject_max_time_ms < pool.eject_time_ms) {
        throw std::runtime_error(fmt::format(
            "--eject-max-time: {} is shorter than --eject-time {}; give a cap at least as long",
            flags.eject_max_time, flags.eject_time));
    }
    pool.max_ejected_percent = parse_percent(flags.max_ejected);
}

}  // namespace c10k::app
