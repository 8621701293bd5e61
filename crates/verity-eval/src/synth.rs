//! A synthetic run and qrels of any size, for measuring evaluation speed
//! (`verity eval generate`). Deterministic for a seed.
//!
//! Each query retrieves `docs_per_query` documents. Scores come in steps of 0.01 (so ties
//! occur, as in real runs), or with [`Scores::Distinct`] one whole number per rank (no two
//! alike, even in the single precision trec_eval keeps scores in). About a fifth of the
//! retrieved documents are judged, with grades 0 to 3, plus judged relevant documents that
//! were never retrieved.

use std::io::Write;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// How the generated scores are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scores {
    /// Steps of 0.01 between 0 and 100: many ties.
    #[default]
    Tied,
    /// `docs_per_query` down to 1, in a random order of documents: no ties.
    Distinct,
}

/// Writes `RUN` and `QRELS`; returns the number of run lines.
pub fn write(
    run: &mut impl Write,
    qrels: &mut impl Write,
    queries: usize,
    docs_per_query: usize,
    scores: Scores,
    seed: u64,
) -> std::io::Result<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut lines = 0;
    for q in 0..queries {
        let mut ranked: Vec<(u32, usize)> = match scores {
            Scores::Tied => (0..docs_per_query)
                .map(|d| (rng.random_range(0..10_000u32), d))
                .collect(),
            Scores::Distinct => {
                let mut docs: Vec<usize> = (0..docs_per_query).collect();
                docs.shuffle(&mut rng);
                docs.into_iter()
                    .enumerate()
                    .map(|(i, d)| ((docs_per_query - i) as u32 * 100, d))
                    .collect()
            }
        };
        ranked.sort_by(|a, b| b.cmp(a));
        for (rank, (score, d)) in ranked.iter().enumerate() {
            writeln!(
                run,
                "q{q} Q0 doc{d} {} {:.2} synth",
                rank + 1,
                f64::from(*score) / 100.0
            )?;
            lines += 1;
            if rng.random_range(0..5) == 0 {
                writeln!(qrels, "q{q} 0 doc{d} {}", rng.random_range(0..4))?;
            }
        }
        for extra in 0..rng.random_range(0..10) {
            writeln!(
                qrels,
                "q{q} 0 unretrieved{extra} {}",
                rng.random_range(1..4)
            )?;
        }
    }
    Ok(lines)
}
