//! `verity eval`: trec_eval's output format, flags, errors, and `compare`.

use crate::common::*;
use std::path::Path;

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_owned()
}

const QRELS: &str = "q1 0 d1 2\nq1 0 d2 0\nq1 0 d3 1\nq2 0 d1 1\nq3 0 x 1\n";
// Ties on q1: d2 and d3 score alike; trec_eval puts d3 first (document id descending).
const RUN: &str = "q1 Q0 d2 1 2.0 sysA\nq1 Q0 d3 2 2.0 sysA\nq1 Q0 d1 3 1.0 sysA\nq2 Q0 d9 1 3 sysA\nq2 Q0 d1 2 1 sysA\nq9 Q0 d1 1 1 sysA\n";

#[test]
fn prints_trec_eval_lines_for_chosen_measures() {
    let tmp = tempfile::tempdir().unwrap();
    let q = write(tmp.path(), "q", QRELS);
    let r = write(tmp.path(), "r", RUN);
    let o = verity(&[
        "eval", &q, &r, "-m", "map", "-m", "P.1,2", "-m", "num_q", "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // q1: d3 (rel) at 1, d2 at 2, d1 (rel) at 3: AP = (1/1 + 2/3) / 2 = 0.8333.
    // q2: d1 at 2: AP = 0.5. q9 is not judged: ignored; q3 is not retrieved: ignored.
    assert_eq!(
        text(&o.stdout),
        "map                   \tq1\t0.8333\n\
         P_1                   \tq1\t1.0000\n\
         P_2                   \tq1\t0.5000\n\
         map                   \tq2\t0.5000\n\
         P_1                   \tq2\t0.0000\n\
         P_2                   \tq2\t0.5000\n\
         num_q                 \tall\t2\n\
         map                   \tall\t0.6667\n\
         P_1                   \tall\t0.5000\n\
         P_2                   \tall\t0.5000\n"
    );
    // -c counts q3 (nothing retrieved, AP 0) in the mean; -l 2 leaves only d1 of q1 relevant.
    let o = verity(&["eval", &q, &r, "-m", "map", "-m", "num_q", "-c"]);
    assert_eq!(
        text(&o.stdout),
        "num_q                 \tall\t3\nmap                   \tall\t0.4444\n"
    );
    let o = verity(&["eval", &q, &r, "-m", "map", "-l", "2", "-q"]);
    assert!(text(&o.stdout).starts_with("map                   \tq1\t0.3333\n"));
    // The default is trec_eval's official set, starting with the run id.
    let o = verity(&["eval", &q, &r]);
    let out = text(&o.stdout);
    assert!(
        out.starts_with("runid                 \tall\tsysA\nnum_q                 \tall\t2\n"),
        "{out}"
    );
    assert!(
        out.contains("\nP_1000                \tall\t0.0015\n"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&verity(&["eval", &q, &r, "-m", "map", "--json"]).stdout).unwrap();
    assert_eq!(json["all"]["map"], 0.6666666666666666);
}

#[test]
fn malformed_input_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let q = write(tmp.path(), "q", QRELS);
    let r = write(tmp.path(), "r", RUN);
    let cases = [
        (
            write(tmp.path(), "bad.qrels", "q1 0 d1 1\nq1 0 d2\n"),
            r.clone(),
            "bad.qrels:2: expected 4 fields",
        ),
        (
            write(tmp.path(), "bad2.qrels", "q1 0 d1 high\n"),
            r.clone(),
            "bad2.qrels:1: relevance `high` is not an integer",
        ),
        (
            q.clone(),
            write(tmp.path(), "bad.run", "q1 Q0 d1 1 1.0 s\nq1 Q0 d2 2 x s\n"),
            "bad.run:2: score `x` is not a number",
        ),
        (
            q.clone(),
            write(tmp.path(), "bad2.run", "q1 Q0 d1 1 1.0\n"),
            "bad2.run:1: expected 6 fields",
        ),
        (
            q.clone(),
            write(
                tmp.path(),
                "dup.run",
                "q1 Q0 d1 1 1.0 s\nq1 Q0 d1 2 0.5 s\n",
            ),
            "dup.run:2: document `d1` is retrieved twice",
        ),
    ];
    for (qf, rf, msg) in cases {
        let o = verity(&["eval", &qf, &rf]);
        assert_eq!(o.status.code(), Some(2), "{msg}");
        assert!(text(&o.stderr).contains(msg), "{msg}: {}", text(&o.stderr));
    }
    let o = verity(&["eval", &q, &r, "-m", "mapp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown measure `mapp`"));
    let o = verity(&["eval", &q, "missing.run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("missing.run"));
}

#[test]
fn compare_reports_differences_and_p_values() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("gen");
    let o = verity(&[
        "eval",
        "generate",
        "--queries",
        "40",
        "--docs-per-query",
        "50",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let q = out.join("qrels.trec");
    let a = out.join("run.trec");
    let gen2 = tmp.path().join("gen2");
    let o = verity(&[
        "eval",
        "generate",
        "--queries",
        "40",
        "--docs-per-query",
        "50",
        "--seed",
        "2",
        "-o",
        gen2.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    // A run compared with itself: no difference, p = 1 for the randomisation test.
    let o = verity(&[
        "eval",
        "compare",
        a.to_str().unwrap(),
        a.to_str().unwrap(),
        "--qrels",
        q.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4);
    for row in rows.as_array().unwrap() {
        assert_eq!(row["mean_diff"], 0.0);
        assert_eq!(row["randomisation_p"], 1.0);
        assert_eq!(row["queries"], 40);
    }
    let o = verity(&[
        "eval",
        "compare",
        a.to_str().unwrap(),
        gen2.join("run.trec").to_str().unwrap(),
        "--qrels",
        q.to_str().unwrap(),
        "-m",
        "map",
        "-q",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("randomised p"), "{out}");
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("map                   \tq"))
            .count(),
        40,
        "{out}"
    );
}

#[test]
fn cutoff_and_judged_only_flags_shape_the_ranking() {
    let tmp = tempfile::tempdir().unwrap();
    let q = write(tmp.path(), "q", QRELS);
    let r = write(tmp.path(), "r", RUN);
    // -M 1: q1 keeps only d3 (relevant), q2 only d9 (unjudged).
    let o = verity(&[
        "eval",
        &q,
        &r,
        "-m",
        "num_ret",
        "-m",
        "num_rel_ret",
        "-M",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "num_ret               \tall\t2\nnum_rel_ret           \tall\t1\n"
    );
    // -J: d9 of q2 is not judged and leaves the ranking, so d1 moves to rank 1.
    let o = verity(&["eval", &q, &r, "-m", "recip_rank", "-q", "-J"]);
    assert!(
        text(&o.stdout).contains("recip_rank            \tq2\t1.0000\n"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn measures_that_need_other_inputs_and_disjoint_files_are_input_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let q = write(tmp.path(), "q", QRELS);
    let r = write(tmp.path(), "r", RUN);
    let o = verity(&["eval", &q, &r, "-m", "prefs_simp"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("preference judgments"),
        "{}",
        text(&o.stderr)
    );
    let o = verity(&["eval", &q, &r, "-m", "P.5,5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("duplicate cut-offs"),
        "{}",
        text(&o.stderr)
    );
    let other = write(tmp.path(), "other", "q77 Q0 d1 1 1.0 x\n");
    let o = verity(&["eval", &q, &other]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no query is in both"),
        "{}",
        text(&o.stderr)
    );
}
