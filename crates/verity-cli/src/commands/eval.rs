//! `verity eval`: trec_eval-compatible evaluation, and `verity eval compare` of two runs.

use std::process::ExitCode;

use verity_eval::compare::compare;
use verity_eval::{evaluate, report, values_of, MeasureSelection, Options, Qrels, Run};

use crate::exit::{CmdResult, Failure};
use crate::out::{out, outln};
use crate::{EvalArgs, EvalCommand};

fn load(qrels: &std::path::Path, run: &std::path::Path) -> Result<(Qrels, Run), Failure> {
    verity_eval::input::load(qrels, run).map_err(Failure::input)
}

pub fn run(args: &EvalArgs) -> CmdResult {
    if let Some(EvalCommand::Generate {
        queries,
        docs_per_query,
        distinct_scores,
        seed,
        output,
    }) = &args.command
    {
        let io = |e: std::io::Error| Failure::input(format!("{}: {e}", output.display()));
        std::fs::create_dir_all(output).map_err(io)?;
        let mut run =
            std::io::BufWriter::new(std::fs::File::create(output.join("run.trec")).map_err(io)?);
        let mut qrels =
            std::io::BufWriter::new(std::fs::File::create(output.join("qrels.trec")).map_err(io)?);
        let lines = verity_eval::synth::write(
            &mut run,
            &mut qrels,
            *queries,
            *docs_per_query,
            if *distinct_scores {
                verity_eval::synth::Scores::Distinct
            } else {
                verity_eval::synth::Scores::Tied
            },
            *seed,
        )
        .map_err(io)?;
        use std::io::Write;
        run.flush().map_err(io)?;
        qrels.flush().map_err(io)?;
        outln!(
            "wrote {lines} run lines for {queries} queries to {}",
            output.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(EvalCommand::Compare {
        run_a,
        run_b,
        qrels,
        measures,
        per_query,
        complete,
        level,
        permutations,
        seed,
        json,
    }) = &args.command
    {
        let specs = if measures.is_empty() {
            vec![
                "map".into(),
                "P_10".into(),
                "ndcg_cut_10".into(),
                "recip_rank".into(),
            ]
        } else {
            measures.clone()
        };
        let selection = MeasureSelection::parse(&specs).map_err(Failure::input)?;
        let opts = Options {
            relevance_level: *level,
            complete: *complete,
            ..Options::default()
        };
        let (q, a) = load(qrels, run_a)?;
        let b = Run::load(run_b).map_err(Failure::input)?;
        let ea = evaluate(&q, &a, &selection, &opts).map_err(Failure::input)?;
        let eb = evaluate(&q, &b, &selection, &opts).map_err(Failure::input)?;
        let mut rows = Vec::new();
        for m in &selection.measures {
            let (Some(va), Some(vb)) = (values_of(&ea, &m.name), values_of(&eb, &m.name)) else {
                continue; // summary-only measures (num_q, gm_map) have no per-query values
            };
            rows.push(compare(&m.name, &va, &vb, *permutations, *seed));
        }
        if *json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&rows).expect("comparisons serialize")
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        outln!("A: {}\nB: {}", run_a.display(), run_b.display())?;
        outln!(
            "{:<22} {:>7} {:>9} {:>9} {:>9} {:>9} {:>12}",
            "measure",
            "queries",
            "A",
            "B",
            "B - A",
            "t-test p",
            "randomised p"
        )?;
        let p = |x: Option<f64>| x.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
        for r in &rows {
            outln!(
                "{:<22} {:>7} {:>9.4} {:>9.4} {:>+9.4} {:>9} {:>12.4}",
                r.measure,
                r.queries,
                r.mean_a,
                r.mean_b,
                r.mean_diff,
                p(r.t_test_p),
                r.randomisation_p
            )?;
        }
        if *per_query {
            outln!()?;
            for r in &rows {
                for (qid, x, y) in &r.per_query {
                    outln!("{:<22}\t{qid}\t{x:.4}\t{y:.4}\t{:+.4}", r.measure, y - x)?;
                }
            }
        }
        outln!(
            "\ntwo-sided p-values: Student's paired t-test; paired randomisation test with {permutations} sign flips (seed {seed})"
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    let (Some(qrels), Some(run)) = (&args.qrels, &args.run) else {
        return Err(Failure::input(
            "usage: verity eval QRELS RUN [-m MEASURE]... (or verity eval compare RUN_A RUN_B --qrels QRELS)",
        ));
    };
    let selection = MeasureSelection::parse(&args.measures).map_err(Failure::input)?;
    let opts = Options {
        relevance_level: args.level,
        complete: args.complete,
        max_retrieved: args.max_retrieved,
        judged_only: args.judged_only,
        num_docs_in_collection: args.num_docs,
    };
    let (q, r) = load(qrels, run)?;
    let ev = evaluate(&q, &r, &selection, &opts).map_err(Failure::input)?;
    let out = if args.json {
        report::render_json(&ev, args.per_query)
    } else {
        report::render(&ev, args.per_query)
    };
    out!("{out}")?;
    // The process ends here: freeing millions of document ids one by one would only delay
    // the exit (a tenth of a second on a run of 2,000,000 lines).
    std::mem::forget((q, r, ev));
    Ok(ExitCode::SUCCESS)
}
