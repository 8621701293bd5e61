//! Splitting a run's cases across machines, deterministically.
//!
//! * `hash:M/N` — a case belongs to partition M when the XXH3 hash of its id, modulo N, is
//!   M − 1. A case keeps its partition when other cases are added or removed, so partitions
//!   stay comparable across truth revisions; sizes are only balanced on average.
//! * `count:M/N` — the selected cases, in truth order, are cut into N contiguous runs whose
//!   sizes differ by at most one. Sizes are exact; membership shifts when the truth changes.
//!
//! * `time:M/N` — the cases are packed into N shares of nearly equal *expected duration*
//!   (longest processing time first: each case, longest first, goes to the share with the least
//!   expected time so far), from the durations of a previous report (`--history`). The slowest
//!   share is then at most 4/3 of the ideal (Graham's bound), and in practice within a few
//!   percent; count and hash partitions put however many slow cases land together in one
//!   share.
//!
//! All are pure functions of the ids, their order and (for `time`) the durations: every
//! machine of a CI matrix computes the same split without talking to the others.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How cases are assigned to partitions (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionScheme {
    /// By the hash of the case id: stable as the truth changes.
    Hash,
    /// Contiguous runs of the selected cases: sizes differ by at most one.
    Count,
    /// By expected duration from a previous report: shares of nearly equal time.
    Time,
}

/// Partition `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partition {
    /// How cases are assigned.
    pub scheme: PartitionScheme,
    /// This share, from 1.
    pub index: usize,
    /// Shares in all.
    pub count: usize,
}

/// A `--partition` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid partition `{value}`: {reason} (expected hash:M/N, count:M/N or time:M/N with 1 <= M <= N)")]
pub struct PartitionParseError {
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Partition {
    type Err = PartitionParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| PartitionParseError {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = s.split_once(':').ok_or_else(|| err("missing scheme"))?;
        let scheme = match scheme {
            "hash" => PartitionScheme::Hash,
            "count" => PartitionScheme::Count,
            "time" => PartitionScheme::Time,
            _ => return Err(err("unknown scheme")),
        };
        let (m, n) = rest.split_once('/').ok_or_else(|| err("missing `/`"))?;
        let index: usize = m.trim().parse().map_err(|_| err("M is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| err("N is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(err("M out of range"));
        }
        Ok(Partition {
            scheme,
            index,
            count,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            PartitionScheme::Hash => "hash",
            PartitionScheme::Count => "count",
            PartitionScheme::Time => "time",
        };
        write!(f, "{scheme}:{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Which of `ids` (the selected cases, in order) belong to this partition; `expected_ms`
    /// holds each case's expected duration, which `time` partitions need (the others ignore
    /// it). Returns `None` for a `time` partition without durations.
    pub fn select_by<S: AsRef<str>>(
        &self,
        ids: &[S],
        expected_ms: Option<&[f64]>,
    ) -> Option<Vec<bool>> {
        match self.scheme {
            PartitionScheme::Time => {
                let shares = time_shares(ids, expected_ms?, self.count);
                Some(shares.iter().map(|s| *s == self.index - 1).collect())
            }
            _ => Some(self.select(ids)),
        }
    }

    /// Which of `ids` (the selected cases, in order) belong to a `hash` or `count` partition.
    /// (A `time` partition needs durations: [`Partition::select_by`]; here it selects nothing.)
    pub fn select<S: AsRef<str>>(&self, ids: &[S]) -> Vec<bool> {
        match self.scheme {
            PartitionScheme::Time => vec![false; ids.len()],
            PartitionScheme::Hash => ids
                .iter()
                .map(|id| {
                    let h = xxhash_rust::xxh3::xxh3_64(id.as_ref().as_bytes());
                    (h % self.count as u64) as usize == self.index - 1
                })
                .collect(),
            PartitionScheme::Count => {
                let n = ids.len();
                let lo = (self.index - 1) * n / self.count;
                let hi = self.index * n / self.count;
                (0..n).map(|i| (lo..hi).contains(&i)).collect()
            }
        }
    }
}

/// The share (0-based) of each case when `ids` with durations `expected_ms` are packed into
/// `count` shares, longest processing time first. Ties are broken by id, then by position, and
/// a case goes to the least loaded share with the lowest number: deterministic.
pub fn time_shares<S: AsRef<str>>(ids: &[S], expected_ms: &[f64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let duration = |i: usize| {
        let d = expected_ms.get(i).copied().unwrap_or(0.0);
        if d.is_finite() && d > 0.0 {
            d
        } else {
            0.0
        }
    };
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| {
        duration(b)
            .total_cmp(&duration(a))
            .then_with(|| ids[a].as_ref().cmp(ids[b].as_ref()))
            .then(a.cmp(&b))
    });
    let mut load = vec![0.0f64; count];
    let mut share = vec![0usize; ids.len()];
    for i in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .expect("at least one share");
        share[i] = least;
        load[least] += duration(i);
    }
    share
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        let p: Partition = "hash:2/3".parse().unwrap();
        assert_eq!(
            p,
            Partition {
                scheme: PartitionScheme::Hash,
                index: 2,
                count: 3
            }
        );
        assert_eq!(p.to_string(), "hash:2/3");
        assert_eq!(
            "count:1/1".parse::<Partition>().unwrap().to_string(),
            "count:1/1"
        );
        for bad in [
            "hash:0/3",
            "hash:4/3",
            "count:1/0",
            "modulo:1/2",
            "hash:1",
            "1/2",
            "hash:a/2",
        ] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    proptest! {
        /// Every case lands in exactly one partition, and count partitions differ in size by
        /// at most one.
        #[test]
        fn partitions_cover_every_case_once(n in 0usize..300, count in 1usize..9, hash in any::<bool>()) {
            let ids: Vec<String> = (0..n).map(|i| format!("case-{i}")).collect();
            let scheme = if hash { PartitionScheme::Hash } else { PartitionScheme::Count };
            let mut owners = vec![0usize; n];
            let mut sizes = Vec::new();
            for index in 1..=count {
                let sel = Partition { scheme, index, count }.select(&ids);
                sizes.push(sel.iter().filter(|b| **b).count());
                for (i, b) in sel.iter().enumerate() {
                    owners[i] += usize::from(*b);
                }
            }
            prop_assert!(owners.iter().all(|o| *o == 1));
            if !hash {
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                prop_assert!(hi - lo <= 1);
            }
        }

        /// Time partitions: every case in exactly one share, the same split every time, and
        /// the slowest share at most the ideal (total / N) plus the longest single case.
        #[test]
        fn time_partitions_are_exact_deterministic_and_balanced(
            durations in proptest::collection::vec(0.0f64..1000.0, 0..200),
            count in 1usize..9,
        ) {
            let ids: Vec<String> = (0..durations.len()).map(|i| format!("case-{i}")).collect();
            let mut owners = vec![0usize; ids.len()];
            let mut loads = vec![0.0f64; count];
            for index in 1..=count {
                let p = Partition { scheme: PartitionScheme::Time, index, count };
                let sel = p.select_by(&ids, Some(&durations)).unwrap();
                prop_assert_eq!(&sel, &p.select_by(&ids, Some(&durations)).unwrap());
                for (i, b) in sel.iter().enumerate() {
                    if *b {
                        owners[i] += 1;
                        loads[index - 1] += durations[i];
                    }
                }
            }
            prop_assert!(owners.iter().all(|o| *o == 1));
            let total: f64 = durations.iter().sum();
            let longest = durations.iter().copied().fold(0.0, f64::max);
            let slowest = loads.iter().copied().fold(0.0, f64::max);
            prop_assert!(slowest <= total / count as f64 + longest + 1e-6);
        }

        /// Graham's bound for longest-first packing: the slowest share is at most
        /// 4/3 − 1/(3N) of the best possible split's, found here by trying every split of a
        /// few cases. (Not of a lower bound such as max(total / N, longest): four cases of
        /// about 900 on three shares must put two together, 1,630 against a bound of 1,170.)
        #[test]
        fn time_partitions_are_within_grahams_bound_of_the_best_split(
            durations in proptest::collection::vec(0.0f64..1000.0, 0..8),
            count in 1usize..5,
        ) {
            let ids: Vec<String> = (0..durations.len()).map(|i| format!("case-{i}")).collect();
            let shares = time_shares(&ids, &durations, count);
            let mut loads = vec![0.0f64; count];
            for (i, s) in shares.iter().enumerate() {
                loads[*s] += durations[i];
            }
            let slowest = loads.iter().copied().fold(0.0, f64::max);
            let best = best_split(&durations, count);
            let bound = best * (4.0 / 3.0 - 1.0 / (3.0 * count as f64));
            prop_assert!(slowest <= bound + 1e-6, "{slowest} vs best {best}");
        }
    }

    /// The slowest share of the best split of `durations` over `count` shares, by trying every
    /// assignment (count^n of them: small instances only).
    fn best_split(durations: &[f64], count: usize) -> f64 {
        fn go(d: &[f64], loads: &mut [f64], best: &mut f64) {
            let Some((first, rest)) = d.split_first() else {
                *best = best.min(loads.iter().copied().fold(0.0, f64::max));
                return;
            };
            for s in 0..loads.len() {
                loads[s] += first;
                if loads[s] < *best {
                    go(rest, loads, best);
                }
                loads[s] -= first;
            }
        }
        let mut best = f64::INFINITY;
        go(durations, &mut vec![0.0; count], &mut best);
        if best.is_finite() {
            best
        } else {
            0.0
        }
    }

    #[test]
    fn time_partitions_need_durations() {
        let p: Partition = "time:2/3".parse().unwrap();
        assert_eq!(p.to_string(), "time:2/3");
        assert_eq!(p.select_by(&["a", "b"], None), None);
        // Skewed durations: one slow case per share, the fast ones spread around them.
        let ids = ["a", "b", "c", "d", "e", "f"];
        let d = [100.0, 1.0, 100.0, 1.0, 100.0, 1.0];
        let shares = time_shares(&ids, &d, 3);
        let mut loads = [0.0; 3];
        for (i, s) in shares.iter().enumerate() {
            loads[*s] += d[i];
        }
        assert_eq!(loads, [101.0, 101.0, 101.0]);
    }
}
