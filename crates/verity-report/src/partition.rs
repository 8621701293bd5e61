//! Splitting a run's cases across machines, deterministically.
//!
//! * `hash:M/N` — a case belongs to partition M when the XXH3 hash of its id, modulo N, is
//!   M − 1. A case keeps its partition when other cases are added or removed, so partitions
//!   stay comparable across truth revisions; sizes are only balanced on average.
//! * `count:M/N` — the selected cases, in truth order, are cut into N contiguous runs whose
//!   sizes differ by at most one. Sizes are exact; membership shifts when the truth changes.
//!
//! Both are pure functions of the ids and their order: every machine of a CI matrix computes
//! the same split without talking to the others.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionScheme {
    Hash,
    Count,
}

/// Partition `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Partition {
    pub scheme: PartitionScheme,
    pub index: usize,
    pub count: usize,
}

/// A `--partition` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid partition `{value}`: {reason} (expected hash:M/N or count:M/N with 1 <= M <= N)")]
pub struct PartitionParseError {
    pub value: String,
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
        };
        write!(f, "{scheme}:{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Which of `ids` (the selected cases, in order) belong to this partition.
    pub fn select<S: AsRef<str>>(&self, ids: &[S]) -> Vec<bool> {
        match self.scheme {
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
    }
}
