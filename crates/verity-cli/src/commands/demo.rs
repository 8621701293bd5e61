//! `verity demo`: index the sample corpus and run one example of every query type.

use std::process::ExitCode;

use verity_engine::{BuildOptions, CodeIndex, SearchOptions};

use crate::exit::{CmdResult, Failure};
use crate::out::outln;
use crate::DemoArgs;

/// One example per query type, with the type's name.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("special characters", "Result<T, E>"),
    ("special characters", "#[derive(Debug)]"),
    ("special characters", "&mut self"),
    ("special characters", "[workspace]"),
    ("boolean AND", "pub AND fn"),
    ("boolean OR", "Error OR Result OR Option"),
    ("boolean NOT", "function NOT test"),
    ("phrase", "\"use std::collections::HashMap\""),
    ("proximity", "word1 NEAR/3 word4"),
    ("wildcard", "Data*"),
    ("wildcard", "fn m?in"),
    ("regex", "/fn\\s+\\w+\\s*\\(/"),
    ("vector", "vector(k=3): parse command line arguments"),
    ("hybrid", "hybrid(k=3): HashMap OR cache"),
];

pub fn run(args: &DemoArgs) -> CmdResult {
    let corpus = args.corpus.clone().unwrap_or_else(super::sample_corpus);
    let tmp =
        tempfile::tempdir().map_err(|e| Failure::input(format!("temporary directory: {e}")))?;
    let index_dir = tmp.path().join("index");
    let (index, report) = CodeIndex::build(&corpus, &index_dir, &BuildOptions::default())?;
    outln!("corpus: {}", corpus.display())?;
    crate::render::print_summary(&report, &index, &index_dir.display().to_string())?;
    outln!()?;
    outln!("{:<20} {:<40} {:>5}  files", "type", "query", "hits")?;
    for (kind, query) in EXAMPLES {
        let res = index.search(query, &SearchOptions::default())?;
        let paths: Vec<&str> = res.hits.iter().map(|h| h.path.as_str()).collect();
        outln!(
            "{:<20} {:<40} {:>5}  {}",
            kind,
            query,
            res.total,
            paths.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
