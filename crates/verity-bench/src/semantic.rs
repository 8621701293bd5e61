//! `verity bench semantic`: retrieval quality on natural-language questions about a corpus,
//! with relevance judged by people — nDCG@10 and MRR (computed by `verity-eval`, trec_eval's
//! definitions) for BM25, the hash embedder, MiniLM (when a model is given) and their hybrids,
//! side by side, whatever the numbers turn out to be.

use std::path::{Path, PathBuf};

use serde::Serialize;
use verity_engine::{BuildOptions, CodeIndex, EmbedderSpec, SearchOptions, VectorConfig};
use verity_eval::{evaluate, MeasureSelection, Options, Qrels, Run, Value};

use crate::error::BenchError;

/// What `verity bench semantic` measures.
#[derive(Debug, Clone)]
pub struct SemanticBench {
    /// The corpus the questions are about.
    pub corpus: PathBuf,
    /// Questions, `ID<TAB>QUESTION` per line.
    pub questions: PathBuf,
    /// TREC qrels: which files answer each question, graded.
    pub qrels: PathBuf,
    /// A MiniLM model directory; without it the MiniLM systems are left out.
    pub minilm_model: Option<PathBuf>,
}

/// Words too common to help BM25 find anything, compared case-insensitively (so the
/// operators `AND`, `OR` and `NOT` never appear as words either).
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "how", "what", "which", "does", "with", "from", "into", "when", "that",
    "this", "are", "its", "use", "before", "until", "not",
];

#[derive(Debug, Serialize)]
struct SystemScore {
    system: String,
    ndcg_at_10: f64,
    mrr: f64,
}

/// What `verity bench semantic` measured: serialized as `--json` prints it, or rendered by
/// [`SemanticReport::markdown`].
#[derive(Debug, Serialize)]
pub struct SemanticReport {
    corpus: String,
    questions: usize,
    judgements: usize,
    /// Were the MiniLM systems measured (a model was given)?
    minilm: bool,
    systems: Vec<SystemScore>,
}

/// The BM25 form of a question: its words of three or more characters, not stop words,
/// joined by `OR` (each a plain term of the query language).
pub fn bm25_query(question: &str) -> Option<String> {
    let words: Vec<&str> = question
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().count() >= 3 && !STOPWORDS.contains(&w.to_lowercase().as_str()))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

fn read_questions(path: &Path) -> Result<Vec<(String, String)>, BenchError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BenchError::input(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, q)) = line.split_once('\t') else {
            return Err(BenchError::input(format!(
                "{}:{}: expected ID<TAB>QUESTION",
                path.display(),
                n + 1
            )));
        };
        out.push((id.trim().to_owned(), q.trim().to_owned()));
    }
    Ok(out)
}

fn build(
    corpus: &Path,
    dir: &Path,
    embedder: Option<EmbedderSpec>,
) -> Result<CodeIndex, BenchError> {
    let opts = BuildOptions {
        vectors: embedder.map(VectorConfig::for_embedder),
        ..BuildOptions::default()
    };
    Ok(CodeIndex::build(corpus, dir, &opts)?.0)
}

/// Runs the benchmark: builds an index per embedder, asks every system every question, and
/// scores the answers against the qrels.
pub fn run(args: &SemanticBench) -> Result<SemanticReport, BenchError> {
    let corpus = &args.corpus;
    let (questions_path, qrels_path) = (&args.questions, &args.qrels);
    let questions = read_questions(questions_path)?;
    let qrels = Qrels::load(qrels_path).map_err(|e| BenchError::input(e.to_string()))?;
    let model = &args.minilm_model;

    let tmp = tempfile::tempdir()
        .map_err(|e| BenchError::internal(format!("temporary directory: {e}")))?;
    let hash = build(
        corpus,
        &tmp.path().join("hash"),
        Some(EmbedderSpec::default()),
    )?;
    let minilm = match model {
        Some(dir) => Some(build(
            corpus,
            &tmp.path().join("minilm"),
            Some(EmbedderSpec::MiniLm { dir: dir.clone() }),
        )?),
        None => None,
    };

    // (system name, index, query for a question)
    type Form = fn(&str) -> Option<String>;
    let mut systems: Vec<(&str, &CodeIndex, Form)> = vec![
        ("BM25", &hash, bm25_query as Form),
        ("hash-256 vector", &hash, |q| {
            Some(format!("vector(k=50): {q}"))
        }),
        ("BM25 + hash-256 hybrid", &hash, |q| {
            bm25_query(q).map(|t| format!("hybrid(k=50): {t}"))
        }),
    ];
    if let Some(m) = &minilm {
        systems.push(("MiniLM vector", m, |q| Some(format!("vector(k=50): {q}"))));
        systems.push(("BM25 + MiniLM hybrid", m, |q| {
            bm25_query(q).map(|t| format!("hybrid(k=50): {t}"))
        }));
    }

    let selection = MeasureSelection::parse(&["ndcg_cut.10".into(), "recip_rank".into()])
        .expect("valid measures");
    let mut scores = Vec::new();
    for (name, index, form) in systems {
        let mut run_text = String::new();
        for (id, question) in &questions {
            let Some(query) = form(question) else {
                continue;
            };
            let hits = index
                .search(&query, &SearchOptions::default())
                .map_err(|e| BenchError::input(format!("{id}: {query}: {e}")))?
                .hits;
            for (rank, h) in hits.iter().take(50).enumerate() {
                // trec_eval orders by score; give strictly decreasing scores in our order.
                run_text.push_str(&format!(
                    "{id} Q0 {} {} {} {}\n",
                    h.path,
                    rank + 1,
                    1000 - rank,
                    name.replace(' ', "_")
                ));
            }
        }
        let run_path = tmp.path().join("run.txt");
        std::fs::write(&run_path, run_text)
            .map_err(|e| BenchError::internal(format!("{}: {e}", run_path.display())))?;
        let run = Run::load(&run_path).map_err(|e| BenchError::input(e.to_string()))?;
        // -c: a question a system answers with nothing scores 0 and still counts.
        let ev = evaluate(
            &qrels,
            &run,
            &selection,
            &Options {
                complete: true,
                ..Options::default()
            },
        )
        .map_err(|e| BenchError::input(e.to_string()))?;
        let value = |i: usize| match &ev.summary[i] {
            Some(Value::Float(f)) => *f,
            _ => f64::NAN,
        };
        scores.push(SystemScore {
            system: name.to_owned(),
            ndcg_at_10: value(0),
            mrr: value(1),
        });
    }
    Ok(SemanticReport {
        corpus: corpus.display().to_string(),
        questions: questions.len(),
        judgements: qrels.queries.values().map(|q| q.len()).sum(),
        minilm: minilm.is_some(),
        systems: scores,
    })
}

impl SemanticReport {
    /// The report as the terminal shows it: a Markdown table of the systems' scores.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let (report, mut out) = (self, String::new());
        let _ = writeln!(
            out,
            "{} questions, {} judgements; corpus {}\n",
            report.questions, report.judgements, report.corpus
        );
        let _ = writeln!(out, "| system | nDCG@10 | MRR |\n|---|---:|---:|");
        for s in &report.systems {
            let _ = writeln!(out, "| {} | {:.3} | {:.3} |", s.system, s.ndcg_at_10, s.mrr);
        }
        if !self.minilm {
            let _ = writeln!(out, "\n(MiniLM rows need --model DIR or VERITY_MINILM_DIR)");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm25_form_keeps_content_words() {
        assert_eq!(
            bm25_query("How is a missing record reported?").as_deref(),
            Some("missing OR record OR reported")
        );
        assert_eq!(bm25_query("how is it"), None);
        assert_eq!(bm25_query("Not AND the cache").as_deref(), Some("cache"));
    }
}
