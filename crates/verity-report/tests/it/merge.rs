//! Merging partition reports.

use crate::fixture;

use std::path::PathBuf;

use verity_report::{merge, MergeError, Partition, PartitionScheme};

fn split(count: usize) -> Vec<(PathBuf, verity_report::Report)> {
    let all = fixture::cases();
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    (1..=count)
        .map(|index| {
            let p = Partition {
                scheme: PartitionScheme::Hash,
                index,
                count,
            };
            let keep = p.select(&ids);
            let cases = all
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c.clone())
                .collect();
            (
                PathBuf::from(format!("p{index}.json")),
                fixture::report(cases, Some(p)),
            )
        })
        .collect()
}

#[test]
fn merged_partitions_equal_the_whole_run() {
    let whole = fixture::report(fixture::cases(), None);
    let (merged, problems) = merge(split(3)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert!(merged.complete);
    assert_eq!(merged.cases, whole.cases);
    assert_eq!(merged.summary, whole.summary);
    assert_eq!(merged.per_type, whole.per_type);
    assert_eq!(merged.thresholds, whole.thresholds);
    assert_eq!(merged.sources.len(), 3);
    assert_eq!(merged.selection.partition, None);
}

#[test]
fn gaps_and_overlaps_are_reported_and_the_rest_kept() {
    let mut parts = split(3);
    let dup = parts[0].clone();
    parts.remove(1);
    parts.push(dup);
    let first_cases = parts[0].1.cases.len();
    let (merged, problems) = merge(parts).unwrap();
    assert_eq!(problems.missing_partitions, [2]);
    assert_eq!(problems.duplicate_partitions, [1]);
    assert_eq!(problems.duplicate_cases.len(), first_cases);
    assert!(problems.missing_cases > 0 || first_cases == 6);
    assert!(!merged.complete);
    assert!(problems
        .lines()
        .iter()
        .any(|l| l == "missing partitions: 2"));
}

#[test]
fn refuses_reports_of_different_truth_or_corpus() {
    let mut parts = split(2);
    parts[1].1.environment.truth_fingerprint = "sha256:other".into();
    match merge(parts) {
        Err(
            e @ MergeError::Mismatch {
                what: "truth fingerprint",
                ..
            },
        ) => {
            assert!(
                e.to_string()
                    .starts_with("p2.json: truth fingerprint differs from p1.json's"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut parts = split(2);
    parts[0].1.environment.corpus_fingerprint = "sha256:x".into();
    assert!(matches!(
        merge(parts),
        Err(MergeError::Mismatch {
            what: "corpus fingerprint",
            ..
        })
    ));
    let mut parts = split(2);
    parts[1].1.selection.partition = Some(Partition {
        scheme: PartitionScheme::Count,
        index: 2,
        count: 2,
    });
    assert!(matches!(
        merge(parts),
        Err(MergeError::Mismatch {
            what: "partitioning",
            ..
        })
    ));
    assert!(matches!(merge(vec![]), Err(MergeError::Empty)));
}
