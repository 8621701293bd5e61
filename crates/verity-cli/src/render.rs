//! What more than one command prints: an index build's summary (`verity index`, `verity
//! demo`), and how a validation run ends — its summary, its report files and its exit code
//! (`verity validate`, `verity report merge`).

use std::path::Path;
use std::process::ExitCode;

use verity_engine::{BuildReport, CodeIndex};
use verity_report::{Format, Report};

use crate::exit::{CmdResult, Failure};
use crate::out::{out, outln};

/// The summary of an index build: files, time, sizes, vectors, what was skipped.
pub fn print_summary(r: &BuildReport, index: &CodeIndex, index_dir: &str) -> Result<(), Failure> {
    let size = index.size_on_disk();
    outln!(
        "indexed {} files into {} in {:.2}s: {} added, {} updated, {} deleted, {} unchanged ({:.1} MiB read, index {:.1} MiB)",
        r.files,
        index_dir,
        r.elapsed.as_secs_f64(),
        r.added,
        r.updated,
        r.deleted,
        r.unchanged,
        r.bytes_indexed as f64 / (1024.0 * 1024.0),
        size as f64 / (1024.0 * 1024.0),
    )?;
    if r.chunks > 0 {
        let stored = index.vector_index().map_or(String::new(), |v| {
            let unrounded = match v.unrounded_len() {
                0 => String::new(),
                n => format!(", {n} of them also as f32, which i8 rounds"),
            };
            // How the vectors are kept says how they are searched (docs/query-language.md §7).
            let kept = if v.has_graph() {
                "in an HNSW graph"
            } else {
                "flat, searched exactly"
            };
            format!(
                "; stored as {}{unrounded}, {kept}, {:.1} MiB",
                v.config().scalar,
                index.vectors_size_on_disk() as f64 / (1024.0 * 1024.0)
            )
        });
        outln!(
            "vectors: {} chunks; {} files embedded, the others' vectors reused{stored}",
            r.chunks,
            r.embedded_files
        )?;
    }
    let by_reason = r.skipped_by_reason();
    if by_reason.is_empty() {
        outln!("skipped 0 files")?;
    } else {
        let parts: Vec<String> = by_reason.iter().map(|(k, v)| format!("{v} {k}")).collect();
        outln!(
            "skipped {} files: {}{}",
            r.skipped.len(),
            parts.join(", "),
            if r.skipped.is_empty() {
                ""
            } else {
                " (--verbose lists them)"
            }
        )?;
    }
    if !r.lossy.is_empty() {
        outln!(
            "{} files were not valid UTF-8 and were decoded with U+FFFD replacements",
            r.lossy.len()
        )?;
    }
    Ok(())
}

/// Makes sure the reports can be written to `output` before any work is done: a file there,
/// or a directory that cannot be created, is an input error now rather than after the run.
pub fn check_output(output: &Path) -> Result<(), Failure> {
    if output.exists() && !output.is_dir() {
        return Err(Failure::input(format!(
            "--output {} is a file, not a directory for the reports",
            output.display()
        )));
    }
    std::fs::create_dir_all(output)
        .map_err(|e| Failure::input(format!("--output {}: {e}", output.display())))
}

/// Reports, printed summary and exit code for a finished (or interrupted) run.
pub fn finish(report: &Report, output: &Path, formats: &[Format]) -> CmdResult {
    out!("{}", verity_report::terminal::render(report))?;
    let written = verity_report::write_reports(report, output, formats)
        .map_err(|e| Failure::internal(format!("writing reports: {e}")))?;
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !names.is_empty() {
        outln!("reports: {} ({})", output.display(), names.join(", "))?;
    }
    Ok(ExitCode::from(report.outcome().exit_code()))
}
