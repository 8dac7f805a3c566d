// The JSON report is a contract (docs/bench.md): it must parse, and every documented key must be
// there with the documented type, with and without server figures. A tiny JSON reader written
// here checks it, so the test depends on nothing but the output itself.

#include "bench/report.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>
#include <variant>

namespace c10k::bench {
namespace {

struct Json;
using JsonObject = std::map<std::string, Json>;
using JsonArray = std::vector<Json>;
struct Json {
    std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
                 std::shared_ptr<JsonObject>>
        value;
    bool is_number() const { return std::holds_alternative<double>(value); }
    bool is_object() const { return std::holds_alternative<std::shared_ptr<JsonObject>>(value); }
    bool is_null() const { return std::holds_alternative<std::nullptr_t>(value); }
    const JsonObject& object() const { return *std::get<std::shared_ptr<JsonObject>>(value); }
    const JsonArray& array() const { return *std::get<std::shared_ptr<JsonArray>>(value); }
    double number() const { return std::get<double>(value); }
};

/// Strict enough for our output: objects, arrays, strings with escapes, numbers, literals.
class JsonReader {
public:
    explicit JsonReader(const std::string& text) : text_(text) {}
    bool parse(Json& out) {
        if (!value(out)) return false;
        skip();
        return pos_ == text_.size();
    }

private:
    void skip() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    bool literal(const char* word) {
        std::string w(word);
        if (text_.compare(pos_, w.size(), w) != 0) return false;
        pos_ += w.size();
        return true;
    }
    bool string(std::string& out) {
        if (text_[pos_] != '"') return false;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            if (static_cast<unsigned char>(text_[pos_]) < 0x20) return false;
            if (text_[pos_] == '\\') {
                ++pos_;
                if (pos_ >= text_.size()) return false;
                char c = text_[pos_];
                if (c == 'u') {
                    pos_ += 4;
                    out += '?';
                } else if (std::string("\"\\/bfnrt").find(c) == std::string::npos) {
                    return false;
                } else {
                    out += c;
                }
                ++pos_;
                continue;
            }
            out += text_[pos_++];
        }
        if (pos_ >= text_.size()) return false;
        ++pos_;
        return true;
    }
    bool value(Json& out) {
        skip();
        if (pos_ >= text_.size()) return false;
        char c = text_[pos_];
        if (c == '{') {
            ++pos_;
            auto object = std::make_shared<JsonObject>();
            skip();
            if (text_[pos_] == '}') {
                ++pos_;
                out.value = object;
                return true;
            }
            while (true) {
                skip();
                std::string key;
                if (!string(key)) return false;
                skip();
                if (text_[pos_++] != ':') return false;
                Json member;
                if (!value(member)) return false;
                if (object->count(key)) return false;  // duplicate keys are a schema bug
                (*object)[key] = member;
                skip();
                if (text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (text_[pos_++] != '}') return false;
                break;
            }
            out.value = object;
            return true;
        }
        if (c == '[') {
            ++pos_;
            auto array = std::make_shared<JsonArray>();
            skip();
            if (text_[pos_] == ']') {
                ++pos_;
                out.value = array;
                return true;
            }
            while (true) {
                Json element;
                if (!value(element)) return false;
                array->push_back(element);
                skip();
                if (text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (text_[pos_++] != ']') return false;
                break;
            }
            out.value = array;
            return true;
        }
        if (c == '"') {
            std::string s;
            if (!string(s)) return false;
            out.value = s;
            return true;
        }
        if (literal("null")) return out.value = nullptr, true;
        if (literal("true")) return out.value = true, true;
        if (literal("false")) return out.value = false, true;
        std::size_t used = 0;
        try {
            double number = std::stod(text_.substr(pos_), &used);
            if (used == 0) return false;
            pos_ += used;
            out.value = number;
            return true;
        } catch (...) {
            return false;
        }
    }

    const std::string& text_;
    std::size_t pos_ = 0;
};

BenchReport sample_report(bool with_server) {
    BenchReport report;
    report.options.urls = {"http://127.0.0.1:8080/a\"b", "http://127.0.0.1:8081/"};
    report.options.rate = 2000;
    report.options.connections = 10000;
    report.options.idle = 5;
    report.duration_s = 10;
    report.stats.requests = 20000;
    report.stats.bytes_read = 123456;
    for (int i = 1; i <= 20000; ++i) {
        report.stats.corrected.record(100 + i % 1000);
        report.stats.uncorrected.record(50 + i % 500);
    }
    report.stats.status[200] = 19990;
    report.stats.status[404] = 10;
    report.stats.count_error(ErrorKind::reset, 3);
    report.stats.count_error(ErrorKind::read_timeout, 2);
    report.stats.connections_target = 10005;
    report.stats.connections_idle = 5;
    report.stats.connections_open = 10000;
    report.stats.connections_failed = 5;
    report.stats.connect_failures[ECONNREFUSED] = 5;
    if (with_server) {
        ServerStats server;
        server.pids = {1234};
        server.processes = 3;
        server.cpu_s = 0.7;
        server.cpu_us_per_request = 35;
        server.rss_kb = 40000;
        server.rss_kb_before = 10000;
        server.rss_bytes_per_connection = 3072;
        report.server = server;
    }
    report.warnings = {"a \"quoted\"\nwarning"};
    return report;
}

const Json& member(const Json& object, const std::string& key) {
    static const Json missing;
    EXPECT_TRUE(object.is_object()) << "looking for " << key;
    if (!object.is_object()) return missing;
    auto it = object.object().find(key);
    EXPECT_NE(it, object.object().end()) << "missing key " << key;
    return it == object.object().end() ? missing : it->second;
}

void expect_numbers(const Json& object, std::initializer_list<const char*> keys) {
    for (const char* key : keys) EXPECT_TRUE(member(object, key).is_number()) << key;
}

Json parse_report(const BenchReport& report) {
    std::string text = format_json(report);
    Json root;
    EXPECT_TRUE(JsonReader(text).parse(root)) << text;
    return root;
}

TEST(JsonReport, HasEveryDocumentedKey) {
    Json root = parse_report(sample_report(true));
    EXPECT_EQ(std::get<std::string>(member(root, "schema").value), json_schema_name);
    EXPECT_EQ(member(root, "urls").array().size(), 2u);
    expect_numbers(root, {"requests", "rps", "duration_s", "bytes_read"});
    EXPECT_EQ(member(root, "requests").number(), 20000);
    EXPECT_EQ(member(root, "rps").number(), 2000);
    const Json& config = member(root, "config");
    expect_numbers(config, {"rate", "connections", "idle", "pipeline", "threads", "processes",
                            "source_addresses", "warmup_s", "timeout_s"});
    EXPECT_EQ(std::get<std::string>(member(config, "mode").value), "open");
    const Json& connections = member(root, "connections");
    expect_numbers(connections, {"target", "idle", "open", "failed", "reconnects"});
    EXPECT_EQ(member(member(connections, "failed_by_errno"), "ECONNREFUSED").number(), 5);
    const Json& errors = member(root, "errors");
    EXPECT_EQ(member(errors, "total").number(), 5);
    const Json& kinds = member(errors, "by_kind");
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        EXPECT_TRUE(member(kinds, error_kind_name(static_cast<ErrorKind>(k))).is_number());
    }
    EXPECT_EQ(member(kinds, "reset").number(), 3);
    EXPECT_EQ(member(member(root, "status"), "404").number(), 10);
    for (const char* which : {"corrected", "uncorrected"}) {
        const Json& latency = member(member(root, "latency_us"), which);
        expect_numbers(latency, {"p50", "p90", "p99", "p999", "p9999", "min", "max", "mean", "count"});
        EXPECT_LE(member(latency, "p50").number(), member(latency, "p99").number());
        EXPECT_LE(member(latency, "p99").number(), member(latency, "max").number());
    }
    EXPECT_NEAR(member(member(member(root, "latency_us"), "corrected"), "p50").number(), 600, 6);
    const Json& server = member(root, "server");
    expect_numbers(server, {"processes", "cpu_s", "cpu_us_per_req", "rss_kb", "rss_kb_before",
                            "rss_bytes_per_conn"});
    EXPECT_EQ(member(server, "pids").array().size(), 1u);
    EXPECT_EQ(member(root, "warnings").array().size(), 1u);
}

TEST(JsonReport, ServerIsNullWithoutServerPid) {
    Json root = parse_report(sample_report(false));
    EXPECT_TRUE(member(root, "server").is_null());
}

TEST(JsonReport, EmptyRunIsStillValid) {
    BenchReport report;
    report.options.urls = {"http://127.0.0.1:1/"};
    Json root = parse_report(report);
    EXPECT_EQ(member(root, "requests").number(), 0);
    EXPECT_EQ(member(member(member(root, "latency_us"), "corrected"), "max").number(), 0);
}

TEST(CsvReport, AppendsHeaderOnceAndOneRowPerRun) {
    char path[] = "/tmp/c10k-bench-csv-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    std::string error;
    ASSERT_TRUE(append_csv(path, sample_report(true), error)) << error;
    ASSERT_TRUE(append_csv(path, sample_report(false), error)) << error;
    std::ifstream file(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    unlink(path);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], csv_header());
    auto columns = [](const std::string& line) {
        std::size_t count = 1;
        bool quoted = false;
        for (char c : line) {
            if (c == '"') quoted = !quoted;
            if (c == ',' && !quoted) ++count;
        }
        return count;
    };
    EXPECT_EQ(columns(lines[1]), columns(lines[0]));
    EXPECT_EQ(columns(lines[2]), columns(lines[0]));
    EXPECT_FALSE(append_csv("/nonexistent-dir/x.csv", sample_report(false), error));
    EXPECT_FALSE(error.empty());
}

TEST(Summary, ShowsPercentilesErrorsAndServer) {
    std::string text = format_summary(sample_report(true));
    for (const char* part : {"99.9%", "99.99%", "corrected", "uncorrected", "Requests/sec",
                             "reset 3", "404: 10", "ECONNREFUSED: 5", "us/request"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
    }
}

TEST(RunStats, SerializeRoundTripsAndMerges) {
    BenchReport report = sample_report(false);
    auto bytes = report.stats.serialize();
    RunStats back;
    ASSERT_TRUE(back.deserialize(bytes));
    EXPECT_EQ(back.requests, report.stats.requests);
    EXPECT_EQ(back.status, report.stats.status);
    EXPECT_EQ(back.connect_failures, report.stats.connect_failures);
    EXPECT_EQ(back.errors, report.stats.errors);
    EXPECT_EQ(back.corrected.percentile(99), report.stats.corrected.percentile(99));
    back.merge(report.stats);
    EXPECT_EQ(back.requests, 2 * report.stats.requests);
    EXPECT_EQ(back.status[404], 20u);
    bytes.pop_back();
    EXPECT_FALSE(back.deserialize(bytes));
}

TEST(RunStats, DeadlineCountsTravelAndTheJsonReportsThem) {
    BenchReport report = sample_report(false);
    report.options.deadline_ns = 200'000'000;
    report.stats.good = 42;
    report.stats.ok_corrected.record(1500);
    report.stats.ok_corrected.record(2500);
    RunStats back;
    ASSERT_TRUE(back.deserialize(report.stats.serialize()));
    EXPECT_EQ(back.good, 42u);
    EXPECT_EQ(back.ok_corrected.count(), 2u);
    back.merge(report.stats);
    EXPECT_EQ(back.good, 84u);
    std::string json = format_json(report);
    EXPECT_NE(json.find("\"deadline\": {\"deadline_s\": 0.2, \"good\": 42,"), std::string::npos)
        << json;
    EXPECT_NE(json.find("\"ok_latency_us\": {"), std::string::npos);
    report.options.deadline_ns = 0;
    EXPECT_NE(format_json(report).find("\"deadline\": null"), std::string::npos);
}

}  // namespace
}  // namespace c10k::bench
