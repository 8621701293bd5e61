//! Two runs on the same qrels: per-query differences and paired significance tests.
//!
//! * Student's paired t-test (statrs' t distribution), two-sided;
//! * a paired randomisation (permutation) test: under the null hypothesis each query's
//!   difference is as likely to have either sign, so the signs are flipped at random
//!   `permutations` times and the p-value is the share of flips whose mean difference is at
//!   least as large in magnitude as the observed one (counting the observed one, so p > 0).
//!   The random generator is seeded: the same inputs give the same p-value.

use rand::{Rng, SeedableRng};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The comparison of one measure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// The measure's printed name (`map`, `P_10`).
    pub measure: String,
    /// Queries both runs were evaluated on.
    pub queries: usize,
    /// Mean of run A over those queries.
    pub mean_a: f64,
    /// Mean of run B over those queries.
    pub mean_b: f64,
    /// mean(B − A).
    pub mean_diff: f64,
    /// Student's paired t statistic; none when it is undefined (as its p-value).
    pub t: Option<f64>,
    /// None when fewer than 2 queries, or when every difference is the same.
    pub t_test_p: Option<f64>,
    /// Two-sided p-value of the paired randomisation test.
    pub randomisation_p: f64,
    /// (query, A, B) in query order.
    pub per_query: Vec<(String, f64, f64)>,
}

/// Paired t statistic and two-sided p-value of differences `d`.
pub fn paired_t(d: &[f64]) -> (Option<f64>, Option<f64>) {
    let n = d.len();
    if n < 2 {
        return (None, None);
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    if var == 0.0 {
        return (None, None);
    }
    let t = mean / (var.sqrt() / (n as f64).sqrt());
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).expect("valid t distribution");
    let p = 2.0 * (1.0 - dist.cdf(t.abs()));
    (Some(t), Some(p.clamp(0.0, 1.0)))
}

/// Two-sided paired randomisation test of differences `d`.
pub fn randomisation(d: &[f64], permutations: usize, seed: u64) -> f64 {
    if d.is_empty() {
        return 1.0;
    }
    let observed = d.iter().sum::<f64>().abs();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut at_least = 0usize;
    for _ in 0..permutations {
        let s: f64 = d
            .iter()
            .map(|x| if rng.random::<bool>() { *x } else { -*x })
            .sum();
        // A hair of tolerance: flips that reproduce the observed sum must count.
        if s.abs() >= observed - 1e-12 {
            at_least += 1;
        }
    }
    (at_least + 1) as f64 / (permutations + 1) as f64
}

/// Compares per-query values of one measure; queries present in both.
pub fn compare(
    measure: &str,
    a: &std::collections::HashMap<String, f64>,
    b: &std::collections::HashMap<String, f64>,
    permutations: usize,
    seed: u64,
) -> Comparison {
    let mut qids: Vec<&String> = a.keys().filter(|q| b.contains_key(*q)).collect();
    qids.sort();
    let per_query: Vec<(String, f64, f64)> =
        qids.iter().map(|q| ((*q).clone(), a[*q], b[*q])).collect();
    let d: Vec<f64> = per_query.iter().map(|(_, x, y)| y - x).collect();
    let n = d.len();
    let mean = |v: &mut dyn Iterator<Item = f64>| {
        if n == 0 {
            0.0
        } else {
            v.sum::<f64>() / n as f64
        }
    };
    let (t, p) = paired_t(&d);
    Comparison {
        measure: measure.to_string(),
        queries: n,
        mean_a: mean(&mut per_query.iter().map(|x| x.1)),
        mean_b: mean(&mut per_query.iter().map(|x| x.2)),
        mean_diff: mean(&mut d.iter().copied()),
        t,
        t_test_p: p,
        randomisation_p: randomisation(&d, permutations, seed),
        per_query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_t_matches_a_hand_computation() {
        // d = 1, 2, 3, 4: mean 2.5, sd 1.2910, t = 2.5 / (1.2910 / 2) = 3.8730, df 3.
        let (t, p) = paired_t(&[1.0, 2.0, 3.0, 4.0]);
        assert!((t.unwrap() - 3.872983).abs() < 1e-6);
        // Two-sided p for t = 3.873 with 3 degrees of freedom (tables: 0.0305).
        assert!((p.unwrap() - 0.030466).abs() < 1e-4, "{p:?}");
        assert_eq!(paired_t(&[1.0]), (None, None));
        assert_eq!(paired_t(&[2.0, 2.0]), (None, None));
    }

    #[test]
    fn randomisation_is_exact_in_the_limit_and_deterministic() {
        // All 4 differences positive: only the all-plus and all-minus of 16 sign patterns reach
        // |sum| = 10, so the exact p is 2/16.
        let d = [1.0, 2.0, 3.0, 4.0];
        let p = randomisation(&d, 200_000, 7);
        assert!((p - 0.125).abs() < 0.005, "{p}");
        assert_eq!(p, randomisation(&d, 200_000, 7));
        // No difference at all: every flip ties, p = 1.
        assert_eq!(randomisation(&[0.0, 0.0], 100, 1), 1.0);
    }
}
