#include "compare/claims.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace c10k::compare {

namespace {

bool cpu_comparable(const ServerSpec& s);

std::string describe(const CellResult* r) {
    if (r == nullptr) return "not measured";
    if (!r->held) return "failed: " + r->failure;
    return fmt::format("{:.1f} us/req{}, p99 {:.2f} ms, {:.1f}% of a core", r->cpu_us_per_request,
                       cpu_comparable(r->cell.server) ? "" : " (lower bound)", r->p99_us / 1000.0,
                       r->cpu_utilisation() * 100);
}

bool held(const CellResult* r) { return r != nullptr && r->held && r->cpu_us_per_request > 0; }

/// Whether a server's CPU per request can be compared. The bench reads CPU from
/// /proc/PID/stat, which counts each process in whole clock ticks (10 ms); a process per
/// connection serves a few requests and stays under a tick, so its time is truncated away and
/// the sum is a lower bound, not a measurement (fork showed 1.7 us per request, a tenth of
/// epoll's). Such servers are judged on failures and latency only.
bool cpu_comparable(const ServerSpec& s) { return s.architecture != "process per connection"; }

std::vector<const ServerSpec*> servers_of(const Results& results, const std::string& architecture,
                                          bool engines_only) {
    std::vector<const ServerSpec*> out;
    for (const auto& s : results.plan.servers) {
        if (s.architecture == architecture && (!engines_only || s.kind == ServerKind::engine)) {
            out.push_back(&s);
        }
    }
    return out;
}

/// The event-driven engine the others are compared with: epoll when measured, else the first
/// event-driven engine.
const ServerSpec* reference(const Results& results) {
    for (const auto& s : results.plan.servers) {
        if (s.name == "epoll") return &s;
    }
    auto event = servers_of(results, "event-driven", true);
    return event.empty() ? nullptr : event.front();
}

/// The measured connection count nearest to `wanted` from above, else the largest.
std::uint32_t count_at_least(const Results& results, std::uint32_t wanted) {
    const auto& counts = results.plan.connections;
    for (auto n : counts) {
        if (n >= wanted) return n;
    }
    return counts.empty() ? 0 : counts.back();
}

/// The verdict of a claim that `hits` of `judged` servers bear out: all of them, some (a
/// caveat), or none; `rule` says what counted, after "<kind>s at N connections".
void judge_share(Claim& c, std::size_t hits, std::size_t judged, const std::string& kind,
                 std::uint32_t n, const std::string& rule) {
    if (hits == judged) {
        c.verdict = Verdict::reproduced;
        c.reason = fmt::format("all {} {}s at {} connections{}", judged, kind, n, rule);
    } else if (hits > 0) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format("{} of {} {}s at {} connections{}", hits, judged, kind, n, rule);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format("no {} at {} connections{}", kind, n, rule);
    }
}

Claim polling_slow(const Results& results, std::uint64_t size) {
    Claim c{"polling-slow",
            "Polling with select/poll is slow; there is no longer any reason to use it.",
            "Kawai's slide (MP/MT < polling < event-driven) and Kegel's C10K page", {}, Verdict::not_measured, {}};
    const ServerSpec* ref = reference(results);
    auto polling = servers_of(results, "polling", true);
    if (ref == nullptr || polling.empty()) {
        c.reason = "needs epoll (or another event-driven engine) and poll or select";
        return c;
    }
    std::uint32_t low = results.plan.connections.front();
    std::uint32_t high = 0;
    double worst_high = 0, worst_low = 0;
    for (auto n : results.plan.connections) {
        const CellResult* base = results.find(ref->name, size, n);
        for (const auto* p : polling) {
            const CellResult* r = results.find(p->name, size, n);
            c.evidence.push_back(fmt::format("{} B, {} conns: {} {} vs {} {}", size, n, p->name,
                                             describe(r), ref->name, describe(base)));
            if (held(r) && held(base)) {
                double ratio = r->cpu_us_per_request / base->cpu_us_per_request;
                if (n == low) worst_low = std::max(worst_low, ratio);
                if (p->name == "poll" && n >= high) {
                    high = n;
                    worst_high = ratio;
                }
            }
        }
    }
    if (high == 0) {
        // Only select measured, or poll never held: judge on the largest count both held.
        for (auto n : results.plan.connections) {
            for (const auto* p : polling) {
                const CellResult* r = results.find(p->name, size, n);
                const CellResult* base = results.find(ref->name, size, n);
                if (held(r) && held(base)) {
                    high = n;
                    worst_high = r->cpu_us_per_request / base->cpu_us_per_request;
                }
            }
        }
    }
    if (high == 0) {
        c.reason = "no connection count at which both a polling engine and the reference held";
        return c;
    }
    if (worst_high >= kSlowerRatio && worst_low >= kSameRatio) {
        c.verdict = Verdict::reproduced;
        c.reason = fmt::format("poll costs {:.2f}x {}'s CPU per request at {} connections and "
                               "{:.2f}x at {} (threshold {}x)",
                               worst_high, ref->name, high, worst_low, low, kSlowerRatio);
    } else if (worst_high >= kSlowerRatio) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format("slow where it matters ({:.2f}x {} at {} connections, threshold "
                               "{}x), but at {} connections it costs only {:.2f}x: at low "
                               "concurrency there is no penalty",
                               worst_high, ref->name, high, kSlowerRatio, low, worst_low);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format("at {} connections poll costs {:.2f}x {}'s CPU per request, below "
                               "the {}x threshold",
                               high, worst_high, ref->name, kSlowerRatio);
    }
    return c;
}

Claim per_connection_slow(const Results& results, std::uint64_t size) {
    Claim c{"per-connection-slow",
            "One thread or process per connection is slow as well, even with an O(1) scheduler, "
            "at 10,000 connections.",
            "Kawai's slide (micro-benchmark, MP/MT vs event-driven)", {}, Verdict::not_measured, {}};
    const ServerSpec* ref = reference(results);
    auto threads = servers_of(results, "thread per connection", true);
    auto processes = servers_of(results, "process per connection", true);
    threads.insert(threads.end(), processes.begin(), processes.end());
    std::uint32_t n = count_at_least(results, kTenThousand);
    if (ref == nullptr || threads.empty() || n == 0) {
        c.reason = "needs epoll and the thread, fork or prefork engine";
        return c;
    }
    const CellResult* base = results.find(ref->name, size, n);
    c.evidence.push_back(fmt::format("{} B, {} conns: {} {}", size, n, ref->name, describe(base)));
    int slow = 0, judged = 0;
    for (const auto* s : threads) {
        const CellResult* r = results.find(s->name, size, n);
        c.evidence.push_back(fmt::format("{} B, {} conns: {} {}", size, n, s->name, describe(r)));
        if (r == nullptr) continue;
        ++judged;
        if (!r->held) {
            ++slow;
        } else if (held(base) && ((cpu_comparable(*s) &&
                                   r->cpu_us_per_request >= kSlowerRatio * base->cpu_us_per_request) ||
                                  r->p99_us >= kLatencyRatio * base->p99_us)) {
            ++slow;
        }
    }
    if (judged == 0 || !held(base)) {
        c.reason = fmt::format("the reference or the per-connection engines were not measured at "
                               "{} connections",
                               n);
        return c;
    }
    std::string rule = fmt::format("failed, or >= {}x {}'s CPU per request, or >= {}x its p99",
                                   kSlowerRatio, ref->name, kLatencyRatio);
    judge_share(c, slow, judged, "per-connection engine", n, ": " + rule);
    return c;
}

Claim event_driven_wins(const Results& results, std::uint64_t size) {
    Claim c{"event-driven-wins",
            "Event-driven servers win: MP/MT < polling < event-driven in performance and "
            "scalability.",
            "Kawai's slide (which asks \"is that really so?\")", {}, Verdict::not_measured, {}};
    std::uint32_t n = results.plan.connections.empty() ? 0 : results.plan.connections.back();
    struct Best {
        std::string name;
        double cpu = 0;
    };
    std::map<std::string, Best> best;  // architecture -> cheapest c10k engine that held
    for (const auto& s : results.plan.servers) {
        if (s.kind != ServerKind::engine) continue;
        const CellResult* r = results.find(s.name, size, n);
        c.evidence.push_back(fmt::format("{} B, {} conns: {} ({}) {}", size, n, s.name,
                                         s.architecture, describe(r)));
        if (!held(r) || !cpu_comparable(s)) continue;
        auto& b = best[s.architecture];
        if (b.name.empty() || r->cpu_us_per_request < b.cpu) b = {s.name, r->cpu_us_per_request};
    }
    auto event = best.find("event-driven");
    if (event == best.end() || best.size() < 2) {
        c.reason = fmt::format("needs an event-driven engine and another architecture that held "
                               "at {} connections",
                               n);
        return c;
    }
    double rival_cpu = 0;
    std::string rival;
    for (const auto& [architecture, b] : best) {
        if (architecture == "event-driven") continue;
        if (rival.empty() || b.cpu < rival_cpu) {
            rival = b.name;
            rival_cpu = b.cpu;
        }
    }
    double ratio = rival_cpu / event->second.cpu;
    if (ratio >= kSameRatio) {
        c.verdict = Verdict::reproduced;
        c.reason = fmt::format("at {} connections the cheapest event-driven engine ({}, {:.1f} "
                               "us) beats the cheapest other one ({}, {:.1f} us) by {:.2f}x "
                               "(threshold {}x)",
                               n, event->second.name, event->second.cpu, rival, rival_cpu, ratio,
                               kSameRatio);
    } else if (ratio >= 1.0) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format("at {} connections {} is cheapest, but {} is within {:.2f}x, "
                               "inside the {}x noise band",
                               n, event->second.name, rival, ratio, kSameRatio);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format("at {} connections {} ({:.1f} us) is cheaper than every "
                               "event-driven engine (best {} {:.1f} us)",
                               n, rival, rival_cpu, event->second.name, event->second.cpu);
    }
    return c;
}

Claim fd_setsize(const Results& results, std::uint64_t size) {
    Claim c{"select-fd-setsize",
            "select() is capped by FD_SETSIZE (1,024 descriptors).",
            "Kegel's C10K page", {}, Verdict::not_measured, {}};
    bool measured = false, small_held = true, large_failed = true, any_large = false;
    for (auto n : results.plan.connections) {
        const CellResult* r = results.find("select", size, n);
        if (r == nullptr) continue;
        measured = true;
        c.evidence.push_back(fmt::format("{} B, {} conns: select {}", size, n, describe(r)));
        // The listener, the standard streams and the readiness probe take a few descriptors,
        // so "below the limit" means well below it.
        if (n + 16 < 1024) small_held = small_held && r->held;
        if (n >= 1024) {
            any_large = true;
            large_failed = large_failed && !r->held;
        }
    }
    if (!measured || !any_large) {
        c.reason = "needs the select engine measured above 1,024 connections";
        return c;
    }
    if (large_failed && small_held) {
        c.verdict = Verdict::reproduced;
        c.reason = "select held every count below 1,024 and failed every count above it";
    } else if (large_failed) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = "select failed above 1,024, but also failed below it";
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = "select held a connection count above FD_SETSIZE";
    }
    return c;
}

Claim koshien_idle(const Results& results, std::uint64_t size) {
    Claim c{"koshien-idle",
            "At ~12,000 connections (each client reloading every 5 s, about 2,000 requests/s) the "
            "Koshien 2007 server's CPU was about 90% idle.",
            "Kawai's slide (Asahi Broadcasting Koshien 2007 site)", {}, Verdict::not_measured, {}};
    std::uint32_t n = count_at_least(results, kKoshienConnections);
    if (n < kTenThousand) {
        c.reason = "needs a connection count of 10,000 or more";
        return c;
    }
    int idle_enough = 0, judged = 0;
    for (const auto& s : results.plan.servers) {
        if (s.architecture != "event-driven") continue;
        const CellResult* r = results.find(s.name, size, n);
        if (r == nullptr) continue;
        ++judged;
        double idle = 1.0 - r->cpu_utilisation();
        c.evidence.push_back(fmt::format("{} B, {} conns at {:g} req/s: {} {}; {:.1f}% idle", size,
                                         n, results.plan.rate, s.name, describe(r), idle * 100));
        if (r->held && idle >= kKoshienIdle) ++idle_enough;
    }
    if (judged == 0) {
        c.reason = "needs an event-driven server measured near 12,000 connections";
        return c;
    }
    std::string rule = fmt::format("held with >= {:.0f}% of the core idle", kKoshienIdle * 100);
    judge_share(c, idle_enough, judged, "event-driven server", n, " " + rule);
    return c;
}

Claim low_concurrency(const Results& results, std::uint64_t size) {
    Claim c{"low-concurrency-implementation",
            "At low concurrency, sendfile and application-level caching matter more than the "
            "architecture (Pai et al., Flash, quoted by Kegel).",
            "Kegel's C10K page", {}, Verdict::not_measured, {}};
    std::uint32_t n = results.plan.connections.empty() ? 0 : results.plan.connections.front();
    double arch_min = 0, arch_max = 0, impl_min = 0, impl_max = 0;
    std::string arch_lo, arch_hi, impl_lo, impl_hi;
    auto widen = [](double v, const std::string& name, double& lo, double& hi, std::string& lo_name,
                    std::string& hi_name) {
        if (lo_name.empty() || v < lo) lo = v, lo_name = name;
        if (hi_name.empty() || v > hi) hi = v, hi_name = name;
    };
    for (const auto& s : results.plan.servers) {
        const CellResult* r = results.find(s.name, size, n);
        c.evidence.push_back(fmt::format("{} B, {} conns: {} ({}{}) {}", size, n, s.name,
                                         s.architecture,
                                         s.kind == ServerKind::anchor ? ", anchor" : "",
                                         describe(r)));
        if (!held(r) || !cpu_comparable(s)) continue;
        double v = r->cpu_us_per_request;
        // Architecture: c10k's engines share the HTTP code, caching and sendfile, so their
        // spread is the architecture's alone. Implementation: the event-driven servers share
        // the architecture, so their spread is the implementation's (caching, sendfile, code).
        if (s.kind == ServerKind::engine) widen(v, s.name, arch_min, arch_max, arch_lo, arch_hi);
        if (s.architecture == "event-driven" && (s.kind == ServerKind::anchor || s.name == "epoll")) {
            widen(v, s.name, impl_min, impl_max, impl_lo, impl_hi);
        }
    }
    if (arch_lo.empty() || impl_lo.empty() || arch_lo == arch_hi || impl_lo == impl_hi) {
        c.reason = "needs two c10k engines of different architectures and an anchor at the "
                   "lowest connection count";
        return c;
    }
    double arch_spread = arch_max / arch_min;
    double impl_spread = impl_max / impl_min;
    c.evidence.push_back(fmt::format("architecture spread (c10k engines): {:.2f}x ({} {:.1f} us .. "
                                     "{} {:.1f} us)",
                                     arch_spread, arch_lo, arch_min, arch_hi, arch_max));
    c.evidence.push_back(fmt::format("implementation spread (event-driven servers): {:.2f}x ({} "
                                     "{:.1f} us .. {} {:.1f} us)",
                                     impl_spread, impl_lo, impl_min, impl_hi, impl_max));
    // sendfile and caching are not switched on and off here; every server uses both, so the
    // claim can only be approached through implementation against architecture.
    std::string caveat = "sendfile and caching were not toggled; implementation spread among "
                         "event-driven servers stands in for them";
    if (impl_spread >= arch_spread) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format("at {} connections implementation differences ({:.2f}x) are at "
                               "least as large as architecture differences ({:.2f}x); {}",
                               n, impl_spread, arch_spread, caveat);
    } else if (impl_spread * kSameRatio >= arch_spread) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format("at {} connections implementation ({:.2f}x) and architecture "
                               "({:.2f}x) spreads are within the {}x noise band; {}",
                               n, impl_spread, arch_spread, kSameRatio, caveat);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format("at {} connections the architecture spread ({:.2f}x) exceeds the "
                               "implementation spread ({:.2f}x) by more than {}x; {}",
                               n, arch_spread, impl_spread, kSameRatio, caveat);
    }
    return c;
}

}  // namespace

std::vector<Claim> evaluate_claims(const Results& results) {
    std::uint64_t size = results.plan.sizes.empty() ? 128 : results.plan.sizes.front();
    return {polling_slow(results, size),      per_connection_slow(results, size),
            event_driven_wins(results, size), fd_setsize(results, size),
            koshien_idle(results, size),      low_concurrency(results, size),
            drop_early_goodput(results),      helpers_keep_cached_fast(results),
            caching_matters_at_low_concurrency(results)};
}

std::string verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::reproduced: return "reproduced";
        case Verdict::reproduced_with_caveat: return "reproduced with a caveat";
        case Verdict::not_reproduced: return "not reproduced";
        case Verdict::not_measured: return "not measured";
    }
    return "?";
}

}  // namespace c10k::compare
