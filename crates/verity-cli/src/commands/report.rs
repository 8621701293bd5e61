//! `verity report show|merge`: re-render a report, recombine partitioned runs.

use std::process::ExitCode;

use verity_report::{Format, Report};

use crate::exit::{CmdResult, Failure};
use crate::out::out;
use crate::ReportCommand;

fn load(path: &std::path::Path) -> Result<Report, Failure> {
    Report::load(path).map_err(Failure::input)
}

pub fn run(cmd: &ReportCommand) -> CmdResult {
    match cmd {
        ReportCommand::Show { report, format } => {
            let r = load(report)?;
            let text = match format.as_str() {
                "text" => verity_report::terminal::render(&r),
                "md" | "markdown" => verity_report::markdown::render(&r),
                "html" => verity_report::html::render(&r),
                "junit" => verity_report::junit::render(&r),
                "json" => serde_json::to_string_pretty(&r).expect("reports serialize") + "\n",
                "run" => verity_report::trec::run_file(&r),
                "qrels" => verity_report::trec::qrels_file(&r),
                other => {
                    return Err(Failure::input(format!(
                    "unknown format `{other}` (expected text, md, html, junit, json, run or qrels)"
                )))
                }
            };
            out!("{text}")?;
            Ok(ExitCode::from(r.outcome().exit_code()))
        }
        ReportCommand::Merge {
            reports,
            output,
            format,
        } => {
            crate::render::check_output(output)?;
            let mut loaded = Vec::new();
            for p in reports {
                loaded.push((p.clone(), load(p)?));
            }
            let formats = match format {
                Some(f) if !f.is_empty() => f
                    .iter()
                    .map(|s| s.parse::<Format>().map_err(Failure::input))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => Format::ALL.to_vec(),
            };
            let (merged, problems) = verity_report::merge(loaded).map_err(Failure::input)?;
            for line in problems.lines() {
                eprintln!("verity: merge: {line}");
            }
            let code = crate::render::finish(&merged, output, &formats)?;
            if !problems.is_empty() && merged.outcome().exit_code() == 0 {
                // Everything present passed, but the merge is not the whole run.
                return Ok(ExitCode::from(crate::exit::NO_MATCH));
            }
            Ok(code)
        }
    }
}
