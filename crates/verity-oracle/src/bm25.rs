//! BM25, as section 6 of docs/query-language.md defines the text ranking, computed by brute
//! force: every file's tokens counted again (once per corpus, by the oracle's own tokenizer),
//! every file checked against the query, in f64.

use rayon::prelude::*;

use crate::corpus::Corpus;
use crate::eval::file_matches;
use crate::postings::MAX_TOKEN_BYTES;
use crate::syntax::{Expr, WildPart};
use crate::tokens::tokenize;

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The words a query is ranked by: the word tokens of its positive terms, first occurrence
/// first, without repeats.
pub fn ranking_words(e: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    fn add(out: &mut Vec<String>, text: &str) {
        for (t, word) in tokenize(text) {
            if word && t.len() <= MAX_TOKEN_BYTES && !out.contains(&t) {
                out.push(t);
            }
        }
    }
    fn walk(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Substring(s) => add(out, s),
            Expr::Wildcard(parts) => {
                let text: String = parts
                    .iter()
                    .map(|p| match p {
                        WildPart::Char(c) => *c,
                        _ => ' ',
                    })
                    .collect();
                add(out, &text);
            }
            Expr::Phrase(ts) => ts.iter().for_each(|t| add(out, t)),
            Expr::Near { a, b, .. } => a.iter().chain(b).for_each(|t| add(out, t)),
            Expr::All(xs) | Expr::Any(xs) => xs.iter().for_each(|x| walk(x, out)),
            Expr::LineRegex(_) | Expr::Negate(_) => {}
        }
    }
    walk(e, &mut out);
    out
}

/// Lucene's one-byte document length (SmallFloat.byte4ToInt): lengths up to 40 exactly, then
/// 4 significant bits. A length is stored as the largest code value not above it.
fn byte4_to_int(b: u8) -> u64 {
    const FREE: u64 = 24; // 255 - longToInt4(i32::MAX)
    let b = u64::from(b);
    if b < FREE {
        return b;
    }
    let i = b - FREE;
    let bits = i & 7;
    let shift = (i >> 3) as i64 - 1;
    FREE + if shift < 0 { bits } else { (bits | 8) << shift }
}

fn quantised_length(n: u64) -> f64 {
    let mut best = 0;
    for b in 0..=255u8 {
        if byte4_to_int(b) <= n {
            best = byte4_to_int(b);
        }
    }
    best as f64
}

/// The files matching `e`, with their BM25 scores, best first (score descending, then path).
pub fn ranking(corpus: &Corpus, e: &Expr) -> Vec<(String, f64)> {
    let words = ranking_words(e);
    let stats = corpus.term_stats();
    let n_docs = corpus.files().len() as f64;
    let mut out: Vec<(String, f64)> = corpus
        .files()
        .par_iter()
        .enumerate()
        .filter(|(_, f)| file_matches(e, f))
        .map(|(i, f)| {
            let dl = quantised_length(stats.lengths[i]);
            let score: f64 = words
                .iter()
                .filter_map(|w| {
                    let tf = stats.count(w, i);
                    if tf == 0 {
                        return None;
                    }
                    let tf = f64::from(tf);
                    let n = stats.doc_freq(w) as f64;
                    let idf = (1.0 + (n_docs - n + 0.5) / (n + 0.5)).ln();
                    Some(
                        idf * (K1 + 1.0) * tf
                            / (tf + K1 * (1.0 - B + B * dl / stats.average_length)),
                    )
                })
                .sum();
            (f.path.clone(), score)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lucene_length_codes() {
        let table: Vec<u64> = (0..=255u8).map(byte4_to_int).collect();
        assert_eq!(&table[..4], [0, 1, 2, 3]);
        assert_eq!(&table[38..44], [38, 39, 40, 42, 44, 46]);
        assert!(table.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(quantised_length(41), 40.0);
        assert_eq!(quantised_length(1000), 984.0);
    }
}
