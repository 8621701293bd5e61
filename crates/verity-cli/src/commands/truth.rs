//! `verity truth …`: generate, check, convert and describe ground truth.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use verity_engine::Deadline;
use verity_validation::truth::json_schema;
use verity_validation::{
    generate, CorrectnessValidator, GeneratorOptions, GroundTruthDataset, OracleBackend,
    ValidatorOptions,
};

use crate::exit::{CmdResult, Failure};
use crate::out::{out, outln};
use crate::TruthCommand;

use crate::inputs::{load_corpus, load_truth};

pub fn run(cmd: &TruthCommand) -> CmdResult {
    match cmd {
        TruthCommand::Generate {
            corpus,
            cases,
            seed,
            output,
            walk,
            vectors,
        } => {
            let c = load_corpus(corpus, walk)?;
            let vectors = match vectors.config()? {
                Some(config) => Some(crate::vector_flags::vector_truth(&c, &config)?),
                None => None,
            };
            let ds = generate(
                &c,
                &GeneratorOptions {
                    cases: *cases,
                    seed: *seed,
                    vectors,
                },
            );
            ds.save(output)
                .map_err(|e| Failure::input(format!("{}: {e}", output.display())))?;
            let mut per_type = std::collections::BTreeMap::new();
            for case in &ds.cases {
                *per_type.entry(case.query_type.name()).or_insert(0usize) += 1;
            }
            let parts: Vec<String> = per_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
            outln!(
                "wrote {} cases for {} files ({}) to {}: {}",
                ds.cases.len(),
                c.files().len(),
                ds.corpus_fingerprint,
                output.display(),
                parts.join(", ")
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TruthCommand::Check {
            truth,
            corpus,
            walk,
            vectors,
        } => {
            let ds = load_truth(truth)?;
            outln!(
                "{}: {} cases, format version {}",
                truth.display(),
                ds.cases.len(),
                ds.format_version
            )?;
            let Some(dir) = corpus else {
                return Ok(ExitCode::SUCCESS);
            };
            let c = load_corpus(dir, walk)?;
            if c.fingerprint() != ds.corpus_fingerprint {
                return Err(Failure::input(format!(
                    "{} was made for corpus {}, but {} is {}: regenerate the truth",
                    truth.display(),
                    ds.corpus_fingerprint,
                    dir.display(),
                    c.fingerprint()
                )));
            }
            // Ranked cases are re-checked with the exact nearest neighbours, which needs every
            // chunk embedded with the truth's settings.
            let has_ranked = ds.cases.iter().any(|c| c.query_type.is_ranked());
            let config = vectors.config()?;
            let backend = match (&config, has_ranked) {
                (Some(config), true) => {
                    crate::vector_flags::check_settings(truth, &ds, Some(config))?;
                    let (table, _) = crate::vector_flags::chunk_table(&c, config)?;
                    OracleBackend::with_vectors(c, table)
                }
                (None, true) => {
                    return Err(Failure::input(format!(
                        "{}: has Vector/Hybrid cases; checking them needs an embedder (not --embedder none)",
                        truth.display()
                    )))
                }
                _ => OracleBackend::new(c),
            };
            let v = CorrectnessValidator::new(Arc::new(backend), ValidatorOptions::default());
            let mut disagreements = 0;
            for case in &ds.cases {
                let r = v
                    .validate(case, &Deadline::none())
                    .map_err(|e| Failure::input(format!("{}: {e}", case.id)))?;
                if !r.is_correct {
                    disagreements += 1;
                    outln!(
                        "{} {:?}: oracle disagrees: {} (missing {:?}, unexpected {:?})",
                        case.id,
                        case.query,
                        r.failure_reasons.join("; "),
                        r.missing_files,
                        r.unexpected_files
                    )?;
                }
            }
            if disagreements > 0 {
                outln!(
                    "{disagreements} of {} cases disagree with the oracle",
                    ds.cases.len()
                )?;
                return Ok(ExitCode::from(crate::exit::NO_MATCH));
            }
            outln!(
                "fingerprint matches; the oracle agrees with all {} cases",
                ds.cases.len()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TruthCommand::Schema => {
            out!("{}", json_schema())?;
            Ok(ExitCode::SUCCESS)
        }
        TruthCommand::ExportQrels { truth, output } => {
            let ds = load_truth(truth)?;
            std::fs::write(output, ds.to_qrels())
                .map_err(|e| Failure::input(format!("{}: {e}", output.display())))?;
            outln!(
                "wrote qrels for {} cases to {}",
                ds.cases.len(),
                output.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TruthCommand::ImportQrels {
            qrels,
            topics,
            corpus,
            output,
            walk,
        } => {
            let read = |p: &Path| {
                std::fs::read_to_string(p)
                    .map_err(|e| Failure::input(format!("{}: {e}", p.display())))
            };
            let c = load_corpus(corpus, walk)?;
            let ds = GroundTruthDataset::from_qrels(
                &read(qrels)?,
                qrels,
                &read(topics)?,
                topics,
                c.fingerprint(),
            )
            .map_err(|e| Failure::input(e.to_string().trim_end()))?;
            ds.save(output)
                .map_err(|e| Failure::input(format!("{}: {e}", output.display())))?;
            outln!("wrote {} cases to {}", ds.cases.len(), output.display())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
