//! A synthetic run and qrels of any size, for measuring evaluation speed
//! (`verity eval generate`). Deterministic for a seed.
//!
//! Each query retrieves `docs_per_query` documents with scores in steps of 0.01 (so ties
//! occur, as in real runs); about a fifth of the retrieved documents are judged, with grades
//! 0 to 3, plus judged relevant documents that were never retrieved.

use std::io::Write;

use rand::{Rng, SeedableRng};

/// Writes `RUN` and `QRELS`; returns the number of run lines.
pub fn write(
    run: &mut impl Write,
    qrels: &mut impl Write,
    queries: usize,
    docs_per_query: usize,
    seed: u64,
) -> std::io::Result<usize> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut lines = 0;
    for q in 0..queries {
        let mut scores: Vec<(u32, usize)> = (0..docs_per_query)
            .map(|d| (rng.random_range(0..10_000u32), d))
            .collect();
        scores.sort_by(|a, b| b.cmp(a));
        for (rank, (score, d)) in scores.iter().enumerate() {
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
