//! JUnit XML for CI (quick-junit, the serializer cargo-nextest uses).
//!
//! One `<testsuite>` per query type, one `<testcase>` per case (name: the case id, classname:
//! the query type). Wrong answers are `<failure>`s whose text lists the missing and unexpected
//! files; cases that could not run are `<error>`s; cancelled cases are `<skipped>`; a case that
//! passed after errors carries its earlier attempts as `<flakyFailure>` elements (the element
//! CI tools read as "flaky"), with `type` saying whether the attempt errored or timed out.

use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestRerun, TestSuite};
use verity_runner::{AttemptOutcome, JobStatus};

use crate::model::{CaseReport, Report};

fn secs(ms: f64) -> Duration {
    verity_core::seconds(ms / 1000.0)
}

fn failure_text(c: &CaseReport) -> String {
    let Some(r) = &c.result else {
        return String::new();
    };
    let mut s = format!("query: {}\n", c.query);
    for reason in &r.failure_reasons {
        s.push_str(&format!("{reason}\n"));
    }
    s.push_str(&format!(
        "precision {:.4}, recall {:.4}, F1 {:.4}\n",
        r.precision, r.recall, r.f1
    ));
    let listed = |label: &str, files: &[String], total: usize, s: &mut String| {
        if total > 0 {
            s.push_str(&format!("{label} ({total}):\n"));
            for f in files {
                s.push_str(&format!("  {f}\n"));
            }
            if files.len() < total {
                s.push_str(&format!("  … and {} more\n", total - files.len()));
            }
        }
    };
    listed("missing files", &r.missing_files, r.false_negatives, &mut s);
    listed(
        "unexpected files",
        &r.unexpected_files,
        r.false_positives,
        &mut s,
    );
    for v in &r.content_violations {
        let at = v.line.map(|l| format!(":{l}")).unwrap_or_default();
        s.push_str(&format!(
            "content rule {:?} `{}`: {}{at}\n",
            v.rule, v.needle, v.file
        ));
    }
    s
}

fn test_case(c: &CaseReport) -> TestCase {
    let status = match c.status {
        JobStatus::Passed => {
            let mut st = TestCaseStatus::success();
            if c.flaky {
                for a in &c.attempts {
                    let (msg, ty) = match &a.outcome {
                        AttemptOutcome::Error(m) => (m.clone(), "error"),
                        AttemptOutcome::TimedOut => ("timed out".to_string(), "timeout"),
                        _ => continue,
                    };
                    let mut rerun = TestRerun::new(NonSuccessKind::Failure);
                    rerun
                        .set_message(msg)
                        .set_type(ty)
                        .set_time(secs(a.duration_ms));
                    st.add_rerun(rerun);
                }
            }
            st
        }
        JobStatus::Failed => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(c.problem()).set_type("wrong answer");
            if c.result.is_some() {
                st.set_description(failure_text(c));
            } else {
                st.set_type("panic");
            }
            st
        }
        JobStatus::Errored | JobStatus::TimedOut => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_message(c.problem())
                .set_type(if c.status == JobStatus::TimedOut {
                    "timeout"
                } else {
                    "error"
                });
            st
        }
        JobStatus::Cancelled => {
            let mut st = TestCaseStatus::skipped();
            st.set_message("cancelled: the run stopped before this case finished");
            st
        }
        JobStatus::Unsupported => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!("unsupported: {}", c.problem()));
            st
        }
    };
    let mut tc = TestCase::new(c.id.as_str(), status);
    tc.set_classname(c.query_type.name())
        .set_time(secs(c.duration_ms))
        .add_property(("query", c.query.as_str()));
    tc
}

/// The report as a JUnit document.
pub fn to_junit(report: &Report) -> quick_junit::Report {
    let mut out = quick_junit::Report::new("verity validate");
    out.set_time(secs(report.run.wall_time_ms));
    for (t, _) in report.types_in_order() {
        let mut suite = TestSuite::new(t.name());
        let cases: Vec<&CaseReport> = report.cases.iter().filter(|c| c.query_type == t).collect();
        suite.set_time(secs(cases.iter().map(|c| c.duration_ms).sum()));
        suite.add_test_cases(cases.into_iter().map(test_case));
        // An approximately answered type is judged as a whole: one test case for its mean.
        if let Some(r) = report
            .recall_checks
            .iter()
            .find(|r| r.query_type == t.name())
        {
            let status = if r.met {
                TestCaseStatus::success()
            } else {
                let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                st.set_message(format!(
                    "mean recall@k {:.4} below the minimum {:.4} over {} approximate cases",
                    r.mean_recall, r.min_recall, r.approximate_cases
                ));
                st
            };
            let mut tc = TestCase::new(format!("{} mean recall@k", t.name()), status);
            tc.set_classname(t.name())
                .add_property(("mean_recall", format!("{:.6}", r.mean_recall).as_str()));
            suite.add_test_case(tc);
        }
        out.add_test_suite(suite);
    }
    out
}

/// The report as JUnit XML text.
pub fn render(report: &Report) -> String {
    to_junit(report)
        .to_string()
        .expect("quick-junit serializes to a string")
}
