//! The correctness validator: runs one case against a backend and says exactly what is wrong.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use verity_engine::Deadline;

use crate::backend::{BackendError, BackendQuery, SearchBackend};
use crate::generator::VECTOR_TOLERANCE;
use crate::truth::{GroundTruthCase, QueryType};

/// Settings of the validator.
#[derive(Debug, Clone)]
pub struct ValidatorOptions {
    /// At most this many missing / unexpected files and content violations are listed (the
    /// counts are always exact).
    pub max_listed: usize,
    /// Cut-off for ranked metrics.
    pub k: usize,
    /// Ranked cases pass when recall@k reaches this.
    pub min_ranked_recall: f64,
    /// The ranking kept for TREC run files: at most this many results (trec_eval's usual depth).
    pub max_ranked: usize,
    /// The chunk windows of the truth's Vector cases, (lines, overlap): a returned chunk id
    /// that is no window of that rule names no chunk.
    pub chunking: Option<(usize, usize)>,
}

impl Default for ValidatorOptions {
    fn default() -> Self {
        ValidatorOptions {
            max_listed: 20,
            k: 10,
            min_ranked_recall: 0.99,
            max_ranked: 1000,
            chunking: None,
        }
    }
}

/// Which content rule a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentRule {
    /// Every returned file must report a line containing the needle.
    MustContain,
    /// No reported line may contain the needle.
    MustNotContain,
}

/// A returned file whose reported lines break a content rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentViolation {
    /// The returned file.
    pub file: String,
    /// The offending line (for must_not_contain); none for a must_contain string found nowhere.
    pub line: Option<usize>,
    /// The rule broken.
    pub rule: ContentRule,
    /// The rule's string.
    pub needle: String,
}

/// Ranking quality, trec_eval conventions: gain = relevance grade, discount log2(rank + 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// The cut-off.
    pub k: usize,
    /// Relevant ids in the first k over min(k, relevant ids); for ranked types, with the
    /// truth's near-ties counted as relevant (ann-benchmarks' recall).
    pub recall_at_k: f64,
    /// Discounted cumulative gain of the first k over that of the ideal ranking.
    pub ndcg_at_k: f64,
    /// 1 / rank of the first relevant id; 0 when none is returned.
    pub reciprocal_rank: f64,
}

/// One returned file in the backend's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedFile {
    /// The file (or for Vector cases the chunk, `path#Lfirst-last`).
    pub path: String,
    /// The backend's score.
    pub score: f32,
}

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationResult {
    /// The case's id.
    pub case_id: String,
    /// The case's query type.
    pub query_type: QueryType,
    /// The answer is right in every checked respect.
    pub is_correct: bool,
    /// Why not, one short reason per broken check.
    pub failure_reasons: Vec<String>,
    /// Returned and expected over returned (for ranked types, over the first k).
    pub precision: f64,
    /// Returned and expected over expected (for ranked types, recall@k).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Returned and expected.
    pub true_positives: usize,
    /// Returned, not expected.
    pub false_positives: usize,
    /// Expected, not returned.
    pub false_negatives: usize,
    /// Expected but not returned (at most `max_listed`).
    pub missing_files: Vec<String>,
    /// Returned but not expected (at most `max_listed`).
    pub unexpected_files: Vec<String>,
    /// Broken content rules (at most `max_listed`).
    pub content_violations: Vec<ContentViolation>,
    /// Every broken content rule, listed or not.
    pub content_violation_count: usize,
    /// Files returned.
    pub result_count: usize,
    /// The count is within the case's `expected_count` (true without one).
    pub count_in_range: bool,
    /// How long the backend took to answer.
    pub latency_ms: f64,
    /// The answer came later than the case's `max_latency_ms`.
    pub latency_exceeded: bool,
    /// Ranking metrics, for ranked types and cases with graded relevance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<RankingMetrics>,
    /// Set when the backend refused the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// The backend answered a ranked case approximately (an HNSW graph): the case passes
    /// unless the answer is wrong in a way no approximation explains, and its recall@k counts
    /// towards its type's mean, which is held to the run's minimum recall.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// What the backend returned, best first (at most `max_ranked`): the TREC run.
    #[serde(default)]
    pub ranked: Vec<RankedFile>,
}

/// Precision, recall and F1 of a returned set against an expected set. Empty denominators
/// count as perfect (returning nothing when nothing is expected is exact).
pub fn set_metrics(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let r = if tp + fn_ == 0 {
        1.0
    } else {
        tp as f64 / (tp + fn_) as f64
    };
    let f1 = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f1)
}

/// recall@k, nDCG@k and reciprocal rank of a ranking against graded relevance, computed by
/// `verity-eval` (the code `verity eval` checks against trec_eval) on the ranking as returned.
/// `all_grades` holds the grade of every judged document of the case.
pub fn ranking_metrics(
    ranked: &[&str],
    grade: impl Fn(&str) -> u32,
    all_grades: &[u32],
    k: usize,
) -> RankingMetrics {
    let rels = ranked.iter().map(|d| Some(i64::from(grade(d)))).collect();
    let s =
        verity_eval::measures::score_ranking(rels, all_grades.iter().map(|g| i64::from(*g)), 1, k);
    RankingMetrics {
        k,
        recall_at_k: s.recall,
        ndcg_at_k: s.ndcg,
        reciprocal_rank: s.recip_rank,
    }
}

/// Validates cases against one backend.
pub struct CorrectnessValidator {
    backend: Arc<dyn SearchBackend>,
    opts: ValidatorOptions,
}

impl CorrectnessValidator {
    /// A validator of `backend`'s answers.
    pub fn new(backend: Arc<dyn SearchBackend>, opts: ValidatorOptions) -> Self {
        CorrectnessValidator { backend, opts }
    }

    /// The backend it validates.
    pub fn backend(&self) -> &dyn SearchBackend {
        &*self.backend
    }

    /// Runs `case` and judges the answer. `Err` when the query could not run (an error, to be
    /// retried); `Ok` with `is_correct == false` when it ran and the answer is wrong (a failure).
    pub fn validate(
        &self,
        case: &GroundTruthCase,
        deadline: &Deadline,
    ) -> Result<ValidationResult, BackendError> {
        let started = Instant::now();
        let response = match self.backend.search(&BackendQuery::of(case), deadline) {
            Ok(r) => Ok(r),
            Err(BackendError::Rejected(msg)) => Err(msg),
            Err(e) => return Err(e),
        };
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (hits, rejected, approximate) = match response {
            Ok(r) => (r.hits, None, r.approximate),
            Err(msg) => (Vec::new(), Some(msg), false),
        };

        let expected: BTreeSet<&str> = case.expected_files.iter().map(String::as_str).collect();
        let k = case.k.unwrap_or(self.opts.k);
        // What the backend returned, as ranked ids: files, or for Vector cases chunks
        // (`path#Lfirst-last`, most similar first).
        let ranked: Vec<(String, f32)> = if case.query_type == QueryType::Vector {
            let mut chunks: Vec<(String, f32)> = hits
                .iter()
                .flat_map(|h| {
                    h.chunks
                        .iter()
                        .map(move |(a, b, s)| (format!("{}#L{a}-{b}", h.path), *s))
                })
                .collect();
            chunks.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            chunks
        } else {
            hits.iter().map(|h| (h.path.clone(), h.score)).collect()
        };
        let (tp, missing, unexpected, denominator) = if case.query_type.is_ranked() {
            // recall@k as ann-benchmarks counts it: of the first k returned, those in the
            // truth (the exact answer and its near-ties) over min(k, exact answers).
            let top: Vec<&str> = ranked.iter().take(k).map(|(id, _)| id.as_str()).collect();
            let tp = top.iter().filter(|id| expected.contains(*id)).count();
            let denominator = k.min(case.expected_files.len());
            let unexpected: Vec<&str> = top
                .iter()
                .copied()
                .filter(|id| !expected.contains(id))
                .collect();
            let missing: Vec<&str> = case.expected_files[..denominator]
                .iter()
                .map(String::as_str)
                .filter(|id| !top.contains(id))
                .take(denominator.saturating_sub(tp))
                .collect();
            (tp, missing, unexpected, denominator)
        } else {
            let returned: BTreeSet<&str> = hits.iter().map(|h| h.path.as_str()).collect();
            let missing: Vec<&str> = expected.difference(&returned).copied().collect();
            let unexpected: Vec<&str> = returned.difference(&expected).copied().collect();
            let tp = expected.intersection(&returned).count();
            let denominator = expected.len();
            (tp, missing, unexpected, denominator)
        };
        let false_negatives = denominator - tp;
        let (precision, recall, f1) = set_metrics(tp, unexpected.len(), false_negatives);

        let mut violations = Vec::new();
        if self.backend.reports_lines() {
            for h in &hits {
                for needle in &case.must_contain {
                    if !h.lines.iter().any(|(_, t)| t.contains(needle.as_str())) {
                        violations.push(ContentViolation {
                            file: h.path.clone(),
                            line: None,
                            rule: ContentRule::MustContain,
                            needle: needle.clone(),
                        });
                    }
                }
                for needle in &case.must_not_contain {
                    for (n, t) in &h.lines {
                        if t.contains(needle.as_str()) {
                            violations.push(ContentViolation {
                                file: h.path.clone(),
                                line: Some(*n),
                                rule: ContentRule::MustNotContain,
                                needle: needle.clone(),
                            });
                        }
                    }
                }
            }
        }
        let content_violation_count = violations.len();
        violations.truncate(self.opts.max_listed);

        let count_in_range = case.expected_count.is_none_or(|r| r.contains(hits.len()));
        let latency_exceeded = case.max_latency_ms.is_some_and(|m| latency_ms > m as f64);

        let ranking = (case.query_type.is_ranked() || !case.relevance.is_empty()).then(|| {
            let ids: Vec<&str> = ranked.iter().map(|(id, _)| id.as_str()).collect();
            let grade = |d: &str| {
                case.relevance
                    .get(d)
                    .copied()
                    .unwrap_or(u32::from(expected.contains(d)))
            };
            let grades: Vec<u32> = case.judgments().into_iter().map(|(_, g)| g).collect();
            let mut m = ranking_metrics(&ids, grade, &grades, k);
            if case.query_type.is_ranked() {
                // trec_eval's recall divides by every relevant document; a ranked case's truth
                // holds near-ties beyond k, so its recall@k is the ann-benchmarks one above.
                m.recall_at_k = recall;
            }
            m
        });

        let mut reasons = Vec::new();
        if let Some(msg) = &rejected {
            reasons.push(format!("query rejected: {msg}"));
        }
        if case.query_type.is_ranked() {
            let r = ranking.expect("ranked cases have ranking metrics");
            // An approximate answer is judged by its type's mean recall@k (in the report); an
            // exact one must equal the oracle's, near-ties aside.
            if !approximate && r.recall_at_k < self.opts.min_ranked_recall {
                reasons.push(format!(
                    "recall@{} {:.3} below {:.3}",
                    r.k, r.recall_at_k, self.opts.min_ranked_recall
                ));
            }
            if rejected.is_none() {
                reasons.extend(self.ranked_faults(case, k, &ranked, approximate));
            }
        } else {
            if false_negatives > 0 {
                reasons.push(format!("{false_negatives} expected files missing"));
            }
            if !unexpected.is_empty() {
                reasons.push(format!("{} unexpected files", unexpected.len()));
            }
        }
        if content_violation_count > 0 {
            reasons.push(format!("{content_violation_count} content rule violations"));
        }
        if !count_in_range {
            reasons.push(format!("{} results outside the expected count", hits.len()));
        }
        if latency_exceeded {
            reasons.push(format!(
                "latency {latency_ms:.1} ms over the limit {} ms",
                case.max_latency_ms.unwrap_or(0)
            ));
        }

        let cap = |v: Vec<&str>| {
            v.into_iter()
                .take(self.opts.max_listed)
                .map(str::to_owned)
                .collect()
        };
        Ok(ValidationResult {
            case_id: case.id.clone(),
            query_type: case.query_type,
            is_correct: reasons.is_empty(),
            failure_reasons: reasons,
            precision,
            recall,
            f1,
            true_positives: tp,
            false_positives: unexpected.len(),
            false_negatives,
            missing_files: cap(missing),
            unexpected_files: cap(unexpected),
            content_violations: violations,
            content_violation_count,
            result_count: hits.len(),
            count_in_range,
            latency_ms,
            latency_exceeded,
            ranking,
            rejected,
            approximate,
            ranked: ranked
                .into_iter()
                .take(self.opts.max_ranked)
                .map(|(path, score)| RankedFile { path, score })
                .collect(),
        })
    }
}

impl CorrectnessValidator {
    /// What is wrong with a ranked answer whatever the search's precision: fewer results than
    /// the collection has (a lost file or chunk), a chunk that is no window of the chunking
    /// rule, or a score other than the oracle's.
    ///
    /// An approximate Hybrid answer may be short without a fault: its fused pool is the text
    /// side's files and the files of the `depth` chunks the graph found, and those chunks can
    /// lie in fewer files than the exact `depth` do (on real code a case got 18 files of 20:
    /// the graph's chunks crowded into near-duplicate bindings). Recall@k judges that. The
    /// graph itself returns k chunks whenever it holds k, so a short Vector answer is a fault
    /// in either mode.
    fn ranked_faults(
        &self,
        case: &GroundTruthCase,
        k: usize,
        ranked: &[(String, f32)],
        approximate: bool,
    ) -> Vec<String> {
        let mut faults = Vec::new();
        // The truth lists the exact answer first (k ids, or every candidate when there are
        // fewer), then its near-ties: this many results exist to be returned.
        let available = k.min(case.expected_files.len());
        let short_is_recall = approximate && case.query_type == QueryType::Hybrid;
        if ranked.len() < available && !short_is_recall {
            faults.push(format!(
                "{} results where the collection has at least {available} (k = {k}): {} lost",
                ranked.len(),
                if case.query_type == QueryType::Vector {
                    "a chunk was"
                } else {
                    "a file was"
                }
            ));
        }
        if case.query_type != QueryType::Vector {
            // A fused score follows from the engine's own ranks, which an approximate vector
            // ranking may legitimately move; recall@k judges those.
            return faults;
        }
        let kth = available
            .checked_sub(1)
            .and_then(|i| case.scores.get(&case.expected_files[i]));
        let mut wrong = Vec::new();
        for (id, claimed) in ranked {
            let claimed = f64::from(*claimed);
            if let Some((lines, overlap)) = self.opts.chunking {
                if let Some(problem) = chunk_id_problem(id, lines, overlap) {
                    wrong.push(format!("{id}: {problem}"));
                    continue;
                }
            }
            match (case.scores.get(id), kth) {
                (Some(exact), _) if (claimed - exact).abs() > VECTOR_TOLERANCE => wrong.push(
                    format!("{id}: similarity {claimed:.4}, the oracle's {exact:.4}"),
                ),
                // Not in the truth, so its real similarity is below the k-th by more than the
                // tolerance: a claim as high as the k-th is false.
                (None, Some(kth)) if claimed >= kth - VECTOR_TOLERANCE / 2.0 => wrong.push(
                    format!(
                        "{id}: similarity {claimed:.4} would put it among the exact {available} (the k-th is {kth:.4}), but the oracle ranks it below: no such chunk, or a wrong score"
                    ),
                ),
                _ => {}
            }
        }
        if !wrong.is_empty() {
            let n = wrong.len();
            wrong.truncate(self.opts.max_listed.max(1));
            faults.push(format!(
                "{n} chunks that cannot be right: {}",
                wrong.join("; ")
            ));
        }
        faults
    }
}

/// Why `id` (`path#Lfirst-last`) is no chunk of `lines`-line windows overlapping by `overlap`
/// lines, if it is not.
fn chunk_id_problem(id: &str, lines: usize, overlap: usize) -> Option<String> {
    let Some((_, range)) = id.rsplit_once("#L") else {
        return Some("not a chunk id (path#Lfirst-last)".into());
    };
    let parsed = range
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    let Some((first, last)) = parsed else {
        return Some("not a chunk id (path#Lfirst-last)".into());
    };
    let step = lines.max(1) - overlap.min(lines.max(1) - 1);
    if first == 0 || last < first || last - first >= lines || (first - 1) % step != 0 {
        return Some(format!(
            "no chunk starts at line {first} and ends at {last} ({lines}-line windows every {step} lines)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ids_follow_the_window_rule() {
        assert_eq!(chunk_id_problem("a.rs#L1-40", 40, 10), None);
        assert_eq!(chunk_id_problem("a#b.rs#L31-52", 40, 10), None);
        assert_eq!(chunk_id_problem("a.rs#L61-61", 40, 10), None);
        for bad in ["a.rs", "a.rs#L1", "a.rs#Lx-3", "a.rs#L0-4", "a.rs#L5-4"] {
            assert!(chunk_id_problem(bad, 40, 10).is_some(), "{bad}");
        }
        // Starts off the 30-line stride, or spans more than 40 lines.
        assert!(chunk_id_problem("a.rs#L1000-1001", 40, 10).is_some());
        assert!(chunk_id_problem("a.rs#L1-41", 40, 10).is_some());
    }

    #[test]
    fn set_metrics_edge_cases() {
        assert_eq!(set_metrics(0, 0, 0), (1.0, 1.0, 1.0));
        assert_eq!(set_metrics(0, 2, 0), (0.0, 1.0, 0.0));
        assert_eq!(set_metrics(0, 0, 3), (1.0, 0.0, 0.0));
        let (p, r, f) = set_metrics(3, 1, 2);
        assert!((p - 0.75).abs() < 1e-12 && (r - 0.6).abs() < 1e-12);
        assert!((f - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
    }

    #[test]
    fn ranking_metrics_follow_trec_conventions() {
        // Relevant: a (grade 2), b (grade 1); ranking: x, a, b.
        let grade = |d: &str| match d {
            "a" => 2,
            "b" => 1,
            _ => 0,
        };
        let m = ranking_metrics(&["x", "a", "b"], grade, &[2, 1], 10);
        assert_eq!(m.recall_at_k, 1.0);
        assert_eq!(m.reciprocal_rank, 0.5);
        let dcg = 2.0 / 3f64.log2() + 1.0 / 4f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2();
        assert!((m.ndcg_at_k - dcg / idcg).abs() < 1e-12);
        let m = ranking_metrics(&["x", "a", "b"], grade, &[2, 1], 1);
        assert_eq!((m.recall_at_k, m.ndcg_at_k), (0.0, 0.0));
    }
}
