//! `verity eval` against the trec_eval binary itself, on many generated runs and qrels: every
//! value of `-m all_trec` (and of parameterised measures), per query and averaged, compared as
//! printed. The binary is built from trec_eval 9.0.8's unchanged C source in
//! ../shared/peers/trec_eval (`build-trec_eval.sh`), or named by `VERITY_TREC_EVAL`.
//!
//! The generated inputs hold the traps that four fixed cases cannot: tied and near-tied scores
//! (distinct doubles one ulp apart), document ids whose byte order differs from their numeric
//! order, graded and negative relevance values, queries only in the run or only in the qrels,
//! queries with no relevant document, and numbers of relevant documents (10, 30, 63, 70, …)
//! for which a recall level times R lands next to an integer. `VERITY_EVAL_DIFF_CASES` sets
//! how many inputs are generated (default 150).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use verity_eval::{evaluate, report, MeasureSelection, Options, Qrels, Run};

/// The trec_eval binary: `VERITY_TREC_EVAL`, or built once from the shared source into this
/// test target's temporary directory. `None` (the test is skipped) only when neither is
/// possible and `VERITY_REQUIRE_PEERS` is not `1`.
fn trec_eval() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let required = std::env::var("VERITY_REQUIRE_PEERS").as_deref() == Ok("1");
        let skip = |why: String| {
            assert!(!required, "{why} and VERITY_REQUIRE_PEERS=1");
            eprintln!("skipping: {why}");
            None
        };
        if let Some(p) = std::env::var_os("VERITY_TREC_EVAL") {
            return Some(PathBuf::from(p));
        }
        let peers = std::env::var_os("VERITY_PEERS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers"));
        let script = peers.join("trec_eval/build-trec_eval.sh");
        if !script.is_file() {
            return skip(format!("no {}", script.display()));
        }
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trec_eval-9.0.8");
        match Command::new("bash").arg(&script).arg(&out).output() {
            Ok(o) if o.status.success() => {
                let path = String::from_utf8_lossy(&o.stdout).trim().to_string();
                Some(PathBuf::from(path))
            }
            Ok(o) => skip(format!(
                "building trec_eval failed: {}",
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => skip(format!("cannot run bash: {e}")),
        }
    })
    .as_deref()
}

/// One generated evaluation: qrels and run text.
struct Input {
    qrels: String,
    run: String,
}

/// Document ids whose byte order is not their numeric order (`d9` > `d10`).
fn doc(rng: &mut ChaCha8Rng, pool: u32) -> String {
    format!("d{}", rng.random_range(0..pool))
}

/// A score: integers from a small range (many exact ties), neighbours one ulp apart (near
/// ties that only exact parsing and comparison keep apart), or arbitrary decimals.
fn score(rng: &mut ChaCha8Rng, mode: u32) -> String {
    match mode {
        0 => rng.random_range(0..6).to_string(),
        1 => {
            let base: f64 = [0.3, 1.0, 0.1 + 0.2, 2.5][rng.random_range(0..4)];
            let steps = rng.random_range(0..3);
            let mut v = base;
            for _ in 0..steps {
                v = f64::from_bits(v.to_bits() + 1);
            }
            format!("{v:?}")
        }
        _ => format!("{:.3}", rng.random_range(-5.0..20.0)),
    }
}

fn generate(seed: u64) -> Input {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut qrels = String::new();
    let mut run = String::new();
    let queries = rng.random_range(1..7);
    let mode = rng.random_range(0..3);
    let max_grade = [1, 2, 4][rng.random_range(0..3)];
    let mut used = std::collections::HashSet::new();
    let mut in_both = 0;
    for q in 0..queries {
        let qid = format!("q{}", rng.random_range(0..40));
        if !used.insert(qid.clone()) {
            continue;
        }
        let in_run = rng.random_range(0..8) != 0;
        let in_qrels = rng.random_range(0..8) != 0;
        let retrieved = if rng.random_range(0..10) == 0 {
            1
        } else {
            rng.random_range(1..90)
        };
        let pool = rng.random_range(retrieved as u32 + 1..retrieved as u32 * 2 + 20);
        let mut docs: Vec<String> = Vec::new();
        while docs.len() < retrieved {
            let d = doc(&mut rng, pool);
            if !docs.contains(&d) {
                docs.push(d);
            }
        }
        if in_run {
            for (i, d) in docs.iter().enumerate() {
                let s = score(&mut rng, mode);
                let _ = writeln!(run, "{qid} Q0 {d} {} {s} run{seed}", i + 1);
            }
        }
        if in_qrels {
            // Relevant documents: sometimes exactly a number whose recall levels land next
            // to an integer in floating point (0.7 × 63, 0.3 × 10, …).
            let target_rel: usize = [0, 3, 10, 20, 30, 63, 70][rng.random_range(0..7)];
            let mut judged: Vec<(String, i64)> = Vec::new();
            let all_nonrel = rng.random_range(0..10) == 0;
            for d in &docs {
                if rng.random_range(0..3) != 0 {
                    let g = if all_nonrel {
                        0
                    } else {
                        rng.random_range(-1..=max_grade)
                    };
                    judged.push((d.clone(), g));
                }
            }
            let have = judged.iter().filter(|(_, g)| *g >= 1).count();
            for extra in 0..target_rel.saturating_sub(have) {
                if all_nonrel {
                    break;
                }
                judged.push((format!("u{q}x{extra}"), rng.random_range(1..=max_grade)));
            }
            // At least one judgment of 0 or more: trec_eval reads its per-grade counts of a
            // query whose judgments are all negative from the previous query's buffer.
            if judged.iter().all(|(_, g)| *g < 0) {
                judged.push((format!("z{q}"), 0));
            }
            for (d, g) in judged {
                let _ = writeln!(qrels, "{qid} 0 {d} {g}");
            }
            in_both += usize::from(in_run);
        }
    }
    // trec_eval refuses inputs without a query in both files.
    if in_both == 0 {
        let _ = writeln!(qrels, "qboth 0 dx 1");
        let _ = writeln!(run, "qboth Q0 dx 1 1.0 run{seed}");
    }
    Input { qrels, run }
}

/// trec_eval's flags and the same as [`Options`].
fn settings(i: u64) -> (Vec<&'static str>, Options) {
    let d = Options::default();
    match i % 7 {
        0 => (vec![], d),
        1 => (
            vec!["-c"],
            Options {
                complete: true,
                ..d
            },
        ),
        2 => (
            vec!["-l", "2"],
            Options {
                relevance_level: 2,
                ..d
            },
        ),
        3 => (
            vec!["-M", "10"],
            Options {
                max_retrieved: Some(10),
                ..d
            },
        ),
        4 => (
            vec!["-J"],
            Options {
                judged_only: true,
                ..d
            },
        ),
        5 => (
            vec!["-N", "5000"],
            Options {
                num_docs_in_collection: 5000,
                ..d
            },
        ),
        _ => (
            vec!["-c", "-l", "2", "-M", "25"],
            Options {
                complete: true,
                relevance_level: 2,
                max_retrieved: Some(25),
                ..d
            },
        ),
    }
}

/// Compares one input under one setting and measure list; the first difference, with
/// everything needed to reproduce it, is the error.
fn compare(bin: &Path, seed: u64, measures: &[&str]) -> Result<usize, String> {
    let input = generate(seed);
    let dir = tempfile::tempdir().unwrap();
    let qrels_path = dir.path().join("qrels");
    let run_path = dir.path().join("run");
    std::fs::write(&qrels_path, &input.qrels).unwrap();
    std::fs::write(&run_path, &input.run).unwrap();
    let (flags, opts) = settings(seed);
    let mut cmd = Command::new(bin);
    cmd.arg("-q").args(&flags);
    for m in measures {
        cmd.arg("-m").arg(m);
    }
    let out = cmd.arg(&qrels_path).arg(&run_path).output().unwrap();
    assert!(
        out.status.success(),
        "trec_eval failed on seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = String::from_utf8(out.stdout).unwrap();
    let selection =
        MeasureSelection::parse(&measures.iter().map(|m| m.to_string()).collect::<Vec<_>>())
            .map_err(|e| format!("-m {measures:?}: {e}"))?;
    let ev = evaluate(
        &Qrels::load(&qrels_path).unwrap(),
        &Run::load(&run_path).unwrap(),
        &selection,
        &opts,
    )
    .map_err(|e| format!("seed {seed}: {e}"))?;
    let ours = report::render(&ev, true);
    let (a, b): (Vec<&str>, Vec<&str>) = (theirs.lines().collect(), ours.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (t, o) = (a.get(i), b.get(i));
        if t != o {
            return Err(format!(
                "seed {seed}, trec_eval -q {} -m {}: line {}\n  trec_eval: {:?}\n  verity:    {:?}\n--- qrels\n{}--- run\n{}",
                flags.join(" "),
                measures.join(" -m "),
                i + 1,
                t.unwrap_or(&"(nothing)"),
                o.unwrap_or(&"(nothing)"),
                input.qrels,
                input.run
            ));
        }
    }
    Ok(a.len())
}

fn cases() -> u64 {
    std::env::var("VERITY_EVAL_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

#[test]
fn all_trec_equals_trec_eval_on_generated_runs() {
    let Some(bin) = trec_eval() else { return };
    let mut lines = 0;
    for seed in 0..cases() {
        lines += compare(bin, seed, &["all_trec"]).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(lines > 1000, "only {lines} values compared");
}

#[test]
fn parameterised_measures_equal_trec_eval() {
    let Some(bin) = trec_eval() else { return };
    let measures = [
        "P.3,7",
        "recall.2,11",
        "ndcg_cut.5,11",
        "map_cut.4",
        "relative_P.6",
        "success.2,3",
        "iprec_at_recall.0.33,0.7,0.05",
        "Rprec_mult.0.3,1.5,3",
        "utility.2,-1,-0.5,0.01",
        "11pt_avg.0.2,0.5,0.8",
        "relstring.5",
        "set_F.0.5",
        "ndcg.1=3,2=9",
        "G.1=2,3=7",
        "ndcg_rel.2=5",
        "Rndcg.0=1,1=4",
        "yaap",
    ];
    for seed in 1000..1000 + cases() / 3 {
        compare(bin, seed, &measures).unwrap_or_else(|e| panic!("{e}"));
    }
}
