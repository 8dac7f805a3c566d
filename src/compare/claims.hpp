#pragma once
// The seeds' claims about server architectures, each checked against the measured cells with
// an explicit threshold, so that the verdict in the report is computed from the data and the
// same data always gives the same verdict.

#include <string>
#include <vector>

#include "compare/results.hpp"

namespace c10k::compare {

enum class Verdict { reproduced, reproduced_with_caveat, not_reproduced, not_measured };

/// One claim, the numbers that bear on it, and the verdict with its reason.
struct Claim {
    std::string id;         ///< short stable name, e.g. "polling-slow"
    std::string statement;  ///< the claim as the seeds make it (translated)
    std::string source;     ///< which seed makes it
    std::vector<std::string> evidence;  ///< one measured fact per line
    Verdict verdict = Verdict::not_measured;
    std::string reason;     ///< why this verdict, naming the threshold
};

/// "Slower" means at least this many times the CPU per request of the event-driven reference.
inline constexpr double kSlowerRatio = 1.5;
/// Within this ratio two figures count as the same cost (the machine is noisy: ~10% run to run).
inline constexpr double kSameRatio = 1.2;
/// A latency this many times the reference's p99 counts as "slow" even at equal CPU.
inline constexpr double kLatencyRatio = 10.0;
/// The Koshien server's CPU was about 90% idle: at least this share of the core left idle.
inline constexpr double kKoshienIdle = 0.90;
/// The Koshien page's connection count; the nearest measured count at or above 10,000 is used.
inline constexpr std::uint32_t kKoshienConnections = 12000;
/// The slide's "10,000 connections".
inline constexpr std::uint32_t kTenThousand = 10000;

/// Overload: goodput at this multiple of the capacity...
inline constexpr double kOverloadFactor = 2.0;
/// ...at least this share of the peak goodput counts as "near peak".
inline constexpr double kNearPeak = 0.90;
/// Disk and caching: a p99 or CPU ratio at least this large counts as "matters" (the same
/// factor as "slower" in the matrix).
inline constexpr double kMattersRatio = kSlowerRatio;

/// The claims of the overload, disk and caching experiments (claims_experiments.cpp); each is
/// not_measured when its experiment's cells are absent.
Claim drop_early_goodput(const Results& results);
Claim helpers_keep_cached_fast(const Results& results);
Claim caching_matters_at_low_concurrency(const Results& results);

/// Evaluates every claim on `results` (cells of the smallest response size unless a claim says
/// otherwise). Claims whose servers were not measured get Verdict::not_measured.
std::vector<Claim> evaluate_claims(const Results& results);

std::string verdict_name(Verdict verdict);

/// The id of the claim an experiment is run to judge ("drop-early-goodput" for overload...);
/// empty for the matrix, which judges several.
std::string experiment_claim_id(Experiment experiment);

}  // namespace c10k::compare
