//! `verity search QUERY`: run one query against an index.

use std::process::ExitCode;

use verity_engine::{CodeIndex, Deadline, SearchOptions};

use crate::exit::{CmdResult, Failure, NO_MATCH};
use crate::out::outln;
use crate::SearchArgs;

pub fn run(args: &SearchArgs) -> CmdResult {
    let deadline = match args.timeout {
        None => Deadline::none(),
        // A timeout past about 31 years (`MAX_SECONDS`) is as good as none.
        Some(s) if s > 0.0 && !s.is_nan() => Deadline::after(verity_core::seconds(s)),
        Some(s) => {
            return Err(Failure::input(format!(
                "--timeout must be a positive number of seconds, got {s}"
            )))
        }
    };
    let opening = std::time::Instant::now();
    let index = CodeIndex::open(&args.index)?;
    let open_ms = opening.elapsed().as_secs_f64() * 1000.0;
    let searching = std::time::Instant::now();
    let results = index.search(
        &args.query,
        &SearchOptions {
            limit: args.limit,
            deadline,
            max_lines_per_file: Some(args.max_lines),
            files_only: args.files_only,
            vector_search: args.vector_search,
        },
    )?;
    let search_ms = searching.elapsed().as_secs_f64() * 1000.0;
    let printing = std::time::Instant::now();
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&results).expect("results serialize")
        )?;
    } else if args.files_only {
        // The name's own bytes, as ripgrep prints them: `xargs` then finds the file even when
        // its name is not UTF-8. (JSON keeps the lossless text form, verity_core::path.) One
        // write for the whole list: standard output is line-buffered, and a write per line
        // cost 90 ms for 88,000 files.
        let mut buf = Vec::with_capacity(results.hits.len() * 48);
        for hit in &results.hits {
            buf.extend_from_slice(&verity_core::path::to_bytes(&hit.path));
            buf.push(b'\n');
        }
        crate::out::bytes(&buf)?;
    } else {
        crate::out::bytes(text_output(&results).as_bytes())?;
    }
    if args.stats {
        // To stderr, as ripgrep's --stats goes beside its results: the output stays clean.
        let since_start = crate::STARTED
            .get()
            .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
        eprintln!(
            "stats: open {open_ms:.2} ms, search {search_ms:.2} ms ({} candidates, {} files), print {:.2} ms, process so far {since_start:.2} ms",
            results.candidates,
            results.total,
            printing.elapsed().as_secs_f64() * 1000.0,
        );
    }
    Ok(if results.total == 0 {
        ExitCode::from(NO_MATCH)
    } else {
        ExitCode::SUCCESS
    })
}

/// The human-readable listing of `results`, built whole and written once (see `-l`).
fn text_output(results: &verity_engine::SearchResults) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for hit in &results.hits {
        let path = verity_core::path::display(&hit.path);
        let _ = match (&hit.fusion, hit.chunks.is_empty()) {
            (Some(f), _) => writeln!(
                out,
                "{}  (fused {:.4}: text rank {}, vector rank {})",
                path,
                hit.score,
                f.text.map_or("-".into(), |r| r.to_string()),
                f.vector.map_or("-".into(), |r| r.to_string())
            ),
            (None, false) => writeln!(out, "{}  (similarity {:.3})", path, hit.score),
            (None, true) => writeln!(
                out,
                "{}  (score {:.3}, {} lines)",
                path, hit.score, hit.line_count
            ),
        };
        for c in &hit.chunks {
            let _ = writeln!(
                out,
                "  lines {}-{}  similarity {:.3}",
                c.first_line, c.last_line, c.similarity
            );
        }
        for l in &hit.lines {
            let _ = writeln!(out, "{:>6}: {}", l.line, l.text);
        }
        if hit.line_count > hit.lines.len() {
            let _ = writeln!(
                out,
                "        … {} more lines",
                hit.line_count - hit.lines.len()
            );
        }
    }
    // With --limit the search stops verifying once it has the best N: the total is then only
    // what it verified.
    let total = if results.total_exact {
        results.total.to_string()
    } else {
        format!("at least {}", results.total)
    };
    let _ = writeln!(
        out,
        "{} of {total} matching files shown ({} candidates, {:.1} ms)",
        results.hits.len(),
        results.candidates,
        results.elapsed_ms
    );
    out
}
