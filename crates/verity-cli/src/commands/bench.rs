//! `verity bench search`: index build figures, then query latency beside ripgrep.
//!
//! Every query runs through the engine (in process, index warm) and through `rg -l` over the
//! same tree with the same walk rules, in the same run, and the two file sets are compared.
//! Figures are medians over `--iterations` runs after `--warmup` runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use serde::Serialize;
use verity_engine::{BuildOptions, CodeIndex, SearchOptions};

use crate::exit::{CmdResult, Failure};
use crate::BenchSearchArgs;

#[derive(Debug, Serialize)]
struct QueryFigures {
    query: String,
    files: usize,
    candidates: usize,
    verity_median_ms: f64,
    rg_median_ms: Option<f64>,
    speedup: Option<f64>,
    same_files: Option<bool>,
}

#[derive(Debug, Serialize)]
struct BenchReport {
    corpus: String,
    files: usize,
    bytes: u64,
    build_seconds: f64,
    files_per_second: f64,
    mib_per_second: f64,
    index_bytes: u64,
    iterations: usize,
    queries: Vec<QueryFigures>,
    verity_median_of_medians_ms: f64,
    rg_median_of_medians_ms: Option<f64>,
    median_speedup: Option<f64>,
    identical_file_sets: Option<String>,
}

pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Reads a query file: one query per line; blank lines and lines starting with `#` are skipped.
fn read_queries(path: &Path) -> Result<Vec<String>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    let qs: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if qs.is_empty() {
        return Err(Failure::input(format!("{}: no queries", path.display())));
    }
    Ok(qs)
}

/// The ripgrep equivalent of a `lit:` or `regex:` query, if it has one.
fn rg_pattern(query: &str) -> Option<(bool, &str)> {
    if let Some(p) = query.strip_prefix("lit:") {
        Some((true, p))
    } else {
        query.strip_prefix("regex:").map(|p| (false, p))
    }
}

fn run_rg(
    root: &Path,
    fixed: bool,
    pattern: &str,
    max_filesize: u64,
) -> Result<BTreeSet<String>, Failure> {
    let mut cmd = Command::new("rg");
    cmd.current_dir(root).args([
        "--files-with-matches",
        "--no-config",
        "--no-require-git",
        "--no-messages",
        "--max-filesize",
        &max_filesize.to_string(),
        "-g",
        "!target",
        "-g",
        "!node_modules",
    ]);
    if fixed {
        cmd.arg("--fixed-strings");
    }
    let out = cmd
        .arg("-e")
        .arg(pattern)
        .output()
        .map_err(|e| Failure::input(format!("running rg: {e}")))?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(Failure::input(format!(
            "rg failed on {pattern:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_owned())
        .collect())
}

pub fn run(args: &BenchSearchArgs) -> CmdResult {
    let queries = read_queries(&args.queries)?;
    let have_rg = !args.no_rg
        && Command::new("rg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    let tmp;
    let index_dir: PathBuf = match &args.index {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile::tempdir()
                .map_err(|e| Failure::input(format!("temporary directory: {e}")))?;
            tmp.path().join("index")
        }
    };
    let opts = BuildOptions {
        walk: args.walk.options(),
        rebuild: true,
        ..BuildOptions::default()
    };
    eprintln!("building the index of {} …", args.corpus.display());
    let (index, build) = CodeIndex::build(&args.corpus, &index_dir, &opts)?;
    let secs = build.elapsed.as_secs_f64();
    let mut figures = Vec::new();
    for q in &queries {
        let search = || index.search(q, &SearchOptions::default());
        for _ in 0..args.warmup {
            search()?;
        }
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..args.iterations.max(1) {
            let t = Instant::now();
            let r = search()?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some(r);
        }
        let last = last.expect("at least one iteration");
        let ours: BTreeSet<String> = last.hits.iter().map(|h| h.path.clone()).collect();
        let (mut rg_median, mut same) = (None, None);
        if let (true, Some((fixed, pattern))) = (have_rg, rg_pattern(q)) {
            for _ in 0..args.warmup {
                run_rg(&args.corpus, fixed, pattern, opts.walk.max_file_size)?;
            }
            let mut rg_times = Vec::new();
            let mut theirs = BTreeSet::new();
            for _ in 0..args.iterations.max(1) {
                let t = Instant::now();
                theirs = run_rg(&args.corpus, fixed, pattern, opts.walk.max_file_size)?;
                rg_times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            rg_median = Some(median(&mut rg_times));
            same = Some(theirs == ours);
            if theirs != ours {
                let only_ours: Vec<_> = ours.difference(&theirs).take(5).collect();
                let only_rg: Vec<_> = theirs.difference(&ours).take(5).collect();
                eprintln!(
                    "file sets differ for {q}: only verity {only_ours:?}, only rg {only_rg:?}"
                );
            }
        }
        let ours_median = median(&mut times);
        figures.push(QueryFigures {
            query: q.clone(),
            files: last.total,
            candidates: last.candidates,
            verity_median_ms: ours_median,
            rg_median_ms: rg_median,
            speedup: rg_median.map(|r| r / ours_median),
            same_files: same,
        });
        eprintln!("  {q}: {ours_median:.2} ms");
    }
    let mut ours: Vec<f64> = figures.iter().map(|f| f.verity_median_ms).collect();
    let mut theirs: Vec<f64> = figures.iter().filter_map(|f| f.rg_median_ms).collect();
    let ours_mm = median(&mut ours);
    let rg_mm = (!theirs.is_empty()).then(|| median(&mut theirs));
    let compared: Vec<bool> = figures.iter().filter_map(|f| f.same_files).collect();
    let report = BenchReport {
        corpus: args.corpus.display().to_string(),
        files: build.files,
        bytes: build.bytes_indexed,
        build_seconds: secs,
        files_per_second: build.files as f64 / secs,
        mib_per_second: build.bytes_indexed as f64 / (1024.0 * 1024.0) / secs,
        index_bytes: index.size_on_disk(),
        iterations: args.iterations,
        median_speedup: rg_mm.map(|r| r / ours_mm),
        verity_median_of_medians_ms: ours_mm,
        rg_median_of_medians_ms: rg_mm,
        identical_file_sets: (!compared.is_empty()).then(|| {
            format!(
                "{}/{}",
                compared.iter().filter(|s| **s).count(),
                compared.len()
            )
        }),
        queries: figures,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
    } else {
        print_markdown(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_markdown(r: &BenchReport) {
    println!(
        "index: {} files, {:.1} MiB in {:.1} s ({:.0} files/s, {:.1} MiB/s), index size {:.1} MiB ({:.2}× the corpus)\n",
        r.files,
        r.bytes as f64 / 1048576.0,
        r.build_seconds,
        r.files_per_second,
        r.mib_per_second,
        r.index_bytes as f64 / 1048576.0,
        r.index_bytes as f64 / r.bytes.max(1) as f64
    );
    println!("| query | files | candidates | verity median ms | rg -l median ms | speed-up | same files |");
    println!("|---|---:|---:|---:|---:|---:|:---:|");
    let opt = |v: Option<f64>, d: usize| v.map_or("–".to_string(), |v| format!("{v:.d$}"));
    for f in &r.queries {
        println!(
            "| `{}` | {} | {} | {:.2} | {} | {} | {} |",
            f.query.replace('|', "\\|"),
            f.files,
            f.candidates,
            f.verity_median_ms,
            opt(f.rg_median_ms, 1),
            opt(f.speedup, 1),
            f.same_files.map_or("–", |s| if s { "yes" } else { "NO" })
        );
    }
    println!(
        "\nmedian of medians: verity {:.2} ms, rg {} ms, speed-up {}; identical file sets: {}",
        r.verity_median_of_medians_ms,
        opt(r.rg_median_of_medians_ms, 1),
        opt(r.median_speedup, 1),
        r.identical_file_sets.as_deref().unwrap_or("not compared")
    );
}
