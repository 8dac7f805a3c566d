// The claims of the overload, disk and caching experiments, judged with the thresholds of
// claims.hpp. Each says "not measured" when the cells it needs are absent or failed, rather
// than guessing from whatever else was run.

#include <algorithm>

#include <fmt/core.h>

#include "compare/claims.hpp"
#include "compare/experiments.hpp"

namespace c10k::compare {

namespace {

bool ok(const CellResult* r) {
    return r != nullptr && r->held;
}

/// Engine names that have both their plain variant and one named `variant` (or starting with
/// it) among the cells of `experiment`, with the variant's label.
std::vector<std::pair<std::string, std::string>> pairs(const Results& results,
                                                       Experiment experiment,
                                                       const std::string& variant) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : results.cells) {
        const auto& s = r.cell.server;
        if (r.cell.experiment != experiment || s.variant.rfind(variant, 0) != 0) continue;
        std::pair<std::string, std::string> p{s.name, s.label()};
        if (std::find(out.begin(), out.end(), p) != out.end()) continue;
        bool plain = false;
        for (const auto& other : results.cells) {
            plain =
                plain || (other.cell.experiment == experiment && other.cell.server.name == s.name &&
                          other.cell.server.variant.empty());
        }
        if (plain) out.push_back(p);
    }
    return out;
}

}  // namespace

Claim drop_early_goodput(const Results& results) {
    Claim c{"drop-early-goodput",
            "Dropping requests early, by their queueing delay, keeps goodput near its peak "
            "under overload.",
            "Welsh's SEDA (adaptive overload control) and CoDel's queue-delay target",
            {},
            Verdict::not_measured,
            {}};
    std::size_t judged = 0, near_peak = 0, collapsed_without = 0;
    for (const auto& [name, controlled] : pairs(results, Experiment::overload, "overload")) {
        auto with = goodput_curve(results, controlled);
        auto without = goodput_curve(results, name);
        auto w2 = point_at(with, kOverloadFactor);
        auto o2 = point_at(without, kOverloadFactor);
        double peak_with = peak_goodput(with);
        double peak_without = peak_goodput(without);
        if (!w2 || !o2) {
            c.evidence.push_back(
                fmt::format("{}: no {}x point of both variants", name, kOverloadFactor));
            continue;
        }
        // A variant whose goodput was nil at every step collapsed: it is judged (0% of its
        // peak), not left out as unmeasured.
        double share_with = peak_with > 0 ? w2->good_rps / peak_with : 0.0;
        double share_without = peak_without > 0 ? o2->good_rps / peak_without : 0.0;
        c.evidence.push_back(fmt::format(
            "{}: goodput at {}x = {:.0f}/s, {:.0f}% of its peak {:.0f}/s (p99 of 200s {:.1f} ms); "
            "without control {:.0f}/s, {:.0f}% of {:.0f}/s (p99 {:.1f} ms)",
            controlled, kOverloadFactor, w2->good_rps, share_with * 100, peak_with,
            w2->ok_p99_us / 1000.0, o2->good_rps, share_without * 100, peak_without,
            o2->ok_p99_us / 1000.0));
        ++judged;
        if (share_with >= kNearPeak) ++near_peak;
        if (share_without < kNearPeak) ++collapsed_without;
    }
    // The anchors have no overload control: their curves are evidence of what happens without
    // it in other servers, not part of the verdict.
    std::vector<std::string> anchors;
    for (const auto& r : results.cells) {
        const auto& s = r.cell.server;
        if (r.cell.experiment != Experiment::overload || s.kind != ServerKind::anchor) continue;
        if (std::find(anchors.begin(), anchors.end(), s.label()) == anchors.end()) {
            anchors.push_back(s.label());
        }
    }
    for (const auto& label : anchors) {
        auto curve = goodput_curve(results, label);
        auto at = point_at(curve, kOverloadFactor);
        double peak = peak_goodput(curve);
        if (!at) continue;
        c.evidence.push_back(fmt::format(
            "{} (no overload control): goodput at {}x = {:.0f}/s, {:.0f}% of its peak {:.0f}/s "
            "(p99 of 200s {:.1f} ms)",
            label, kOverloadFactor, at->good_rps, peak > 0 ? at->good_rps / peak * 100 : 0.0,
            peak, at->ok_p99_us / 1000.0));
    }
    if (judged == 0) {
        c.reason = fmt::format(
            "needs the overload experiment (--experiment overload) with a {}x "
            "step, for a server with and without --overload-target",
            kOverloadFactor);
        return c;
    }
    std::string rule =
        fmt::format("goodput at {}x at least {:.0f}% of peak", kOverloadFactor, kNearPeak * 100);
    if (near_peak == judged && collapsed_without == judged) {
        c.verdict = Verdict::reproduced;
        c.reason = fmt::format(
            "all {} engines with overload control kept {}, and all fell below "
            "it without",
            judged, rule);
    } else if (near_peak == judged) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format(
            "all {} engines with overload control kept {}, but {} of them "
            "kept it without control too: this ramp did not show a collapse "
            "to prevent",
            judged, rule, judged - collapsed_without);
    } else if (near_peak > 0) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason =
            fmt::format("{} of {} engines with overload control kept {}", near_peak, judged, rule);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format("no engine with overload control kept {}", rule);
    }
    return c;
}

Claim helpers_keep_cached_fast(const Results& results) {
    Claim c{"amped-helpers",
            "Helper threads for disk reads keep cached requests fast while the disk is busy.",
            "Pai, Druschel and Zwaenepoel's Flash (AMPED) paper",
            {},
            Verdict::not_measured,
            {}};
    std::size_t judged = 0, helped = 0, unhurt = 0;
    for (const auto& [name, without_label] : pairs(results, Experiment::disk, "no helpers")) {
        const CellResult* idle = find_experiment_cell(results, name, "idle");
        const CellResult* busy = find_experiment_cell(results, name, "busy");
        const CellResult* busy_without = find_experiment_cell(results, without_label, "busy");
        if (!ok(idle) || !ok(busy) || !ok(busy_without) || busy->p99_us <= 0 || idle->p99_us <= 0) {
            c.evidence.push_back(name + ": idle or busy cells missing or failed");
            continue;
        }
        double ratio = busy_without->p99_us / busy->p99_us;
        double inflation = busy->p99_us / idle->p99_us;
        c.evidence.push_back(fmt::format(
            "{}: cached p99 {:.2f} ms idle, {:.2f} ms with cold reads ({:.1f}x); without "
            "helpers {:.2f} ms with cold reads ({:.1f}x the helpers' figure)",
            name, idle->p99_us / 1000.0, busy->p99_us / 1000.0, inflation,
            busy_without->p99_us / 1000.0, ratio));
        ++judged;
        if (ratio >= kMattersRatio) ++helped;
        if (inflation < kMattersRatio) ++unhurt;
    }
    for (const auto& label : cell_labels(results)) {
        if (label.rfind("nginx", 0) != 0) continue;
        const CellResult* idle = find_experiment_cell(results, label, "idle");
        const CellResult* busy = find_experiment_cell(results, label, "busy");
        if (ok(idle) && ok(busy)) {
            c.evidence.push_back(
                fmt::format("{}: cached p99 {:.2f} ms idle, {:.2f} ms with cold "
                            "reads",
                            label, idle->p99_us / 1000.0, busy->p99_us / 1000.0));
        }
    }
    if (judged == 0) {
        c.reason = "needs the disk experiment (--experiment disk) with and without --no-helpers";
        return c;
    }
    if (helped == judged && unhurt == judged) {
        c.verdict = Verdict::reproduced;
        c.reason = fmt::format(
            "without helpers the cached p99 under cold reads was at least "
            "{}x that with helpers, and with helpers it stayed within {}x of "
            "idle",
            kMattersRatio, kMattersRatio);
    } else if (helped > 0) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = fmt::format(
            "helpers cut the cached p99 under cold reads by at least {}x for "
            "{} of {} engines, but {} of them still rose {}x or more over idle",
            kMattersRatio, helped, judged, judged - unhurt, kMattersRatio);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = fmt::format(
            "without helpers the cached p99 under cold reads was below {}x "
            "that with helpers (the cold reads did not stall the loop here: "
            "check that the data set was really evicted)",
            kMattersRatio);
    }
    return c;
}

Claim caching_matters_at_low_concurrency(const Results& results) {
    Claim c{"caching-low-concurrency",
            "Caching and zero-copy (sendfile) matter more at low concurrency than at high.",
            "the seeds' discussion of the micro-benchmark",
            {},
            Verdict::not_measured,
            {}};
    std::uint32_t low = 0, high = 0;
    for (const auto& r : results.cells) {
        if (r.cell.experiment != Experiment::caching) continue;
        low = low == 0 ? r.cell.connections : std::min(low, r.cell.connections);
        high = std::max(high, r.cell.connections);
    }
    auto both = pairs(results, Experiment::caching, "no cache, no sendfile");
    if (low == high || both.empty()) {
        c.reason = "needs the caching experiment (--experiment caching) at two connection counts";
        return c;
    }
    // Evidence for each switch alone; the verdict on both switched off.
    for (const auto& variant : {"no cache", "no sendfile", "no cache, no sendfile"}) {
        for (const auto& [name, label] : pairs(results, Experiment::caching, variant)) {
            if (label != name + " (" + variant + ")") continue;
            for (auto n : {low, high}) {
                const CellResult* on = find_experiment_cell(results, name, "caching", 0, n);
                const CellResult* off = find_experiment_cell(results, label, "caching", 0, n);
                if (ok(on) && ok(off) && on->cpu_us_per_request > 0) {
                    c.evidence.push_back(
                        fmt::format("{}, {} conns: {:.1f} us/req vs {:.1f} with both ({:.2f}x)",
                                    label, n, off->cpu_us_per_request, on->cpu_us_per_request,
                                    off->cpu_us_per_request / on->cpu_us_per_request));
                }
            }
        }
    }
    const auto& [name, label] = both.front();
    const CellResult* on_low = find_experiment_cell(results, name, "caching", 0, low);
    const CellResult* off_low = find_experiment_cell(results, label, "caching", 0, low);
    const CellResult* on_high = find_experiment_cell(results, name, "caching", 0, high);
    const CellResult* off_high = find_experiment_cell(results, label, "caching", 0, high);
    if (!ok(on_low) || !ok(off_low) || !ok(on_high) || !ok(off_high) ||
        on_low->cpu_us_per_request <= 0 || on_high->cpu_us_per_request <= 0) {
        c.reason = fmt::format("the cells of {} at {} and {} connections did not all hold", label,
                               low, high);
        return c;
    }
    double benefit_low = off_low->cpu_us_per_request / on_low->cpu_us_per_request;
    double benefit_high = off_high->cpu_us_per_request / on_high->cpu_us_per_request;
    std::string figures = fmt::format(
        "switching both off costs {:.2f}x the CPU per request at "
        "{} connections and {:.2f}x at {}",
        benefit_low, low, benefit_high, high);
    if (benefit_low >= benefit_high * kSameRatio && benefit_low >= kSameRatio) {
        c.verdict = Verdict::reproduced;
        c.reason = figures + fmt::format(" (threshold: low at least {}x high)", kSameRatio);
    } else if (benefit_low >= benefit_high * kSameRatio) {
        c.verdict = Verdict::reproduced_with_caveat;
        c.reason = figures + fmt::format(
                                 ": more at low concurrency, but below {}x there too, "
                                 "so they hardly matter at either",
                                 kSameRatio);
    } else {
        c.verdict = Verdict::not_reproduced;
        c.reason = figures + fmt::format(" (threshold: low at least {}x high)", kSameRatio);
    }
    return c;
}

std::string experiment_claim_id(Experiment experiment) {
    switch (experiment) {
        case Experiment::overload: return "drop-early-goodput";
        case Experiment::disk: return "amped-helpers";
        case Experiment::caching: return "caching-low-concurrency";
        default: return "";
    }
}

}  // namespace c10k::compare
