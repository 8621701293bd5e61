//! `verity validate`: flags and profiles into `verity_pipeline::ValidateSettings`, the run,
//! then the printed summary and the report files.
//!
//! The steps, each with its own exit code on failure (docs/ci.md): settings (2), corpus and
//! truth (2), index (2 or 3), the run, the reports. A run interrupted with Ctrl-C still writes
//! every report, marked incomplete, and exits with 130.

use std::collections::BTreeMap;
use std::path::PathBuf;

use verity_core::{exit, CancelToken};
use verity_engine::VectorSearch;
use verity_pipeline::ValidateSettings;
use verity_report::{Format, Partition};
use verity_validation::protocol::WalkRules;
use verity_validation::{BackendSpec, QueryType};

use crate::config::{self, MinAccuracy};
use crate::exit::{CmdResult, Failure};
use crate::ValidateArgs;

/// Settings after config file, profile and flags.
struct Settings {
    profile: String,
    backend: BackendSpec,
    corpus: PathBuf,
    builtin_corpus: bool,
    truth: Option<PathBuf>,
    index: Option<PathBuf>,
    cases: usize,
    seed: u64,
    jobs: usize,
    timeout: f64,
    retries: u32,
    history: Option<PathBuf>,
    rerun_failed: Option<PathBuf>,
    repeat: usize,
    max_fail: Option<usize>,
    fail_fast: bool,
    min_accuracy: BTreeMap<String, f64>,
    min_recall: f64,
    vector_search: VectorSearch,
    partition: Option<Partition>,
    output: PathBuf,
    formats: Vec<Format>,
    types: Vec<QueryType>,
    tags: Vec<String>,
    max_rss: Option<u64>,
    global_timeout: Option<f64>,
    progress_interval: f64,
}

/// A span of seconds from a flag or verity.toml: positive and at most
/// [`verity_core::MAX_SECONDS`] (about 31 years).
fn positive(name: &str, v: f64) -> Result<f64, Failure> {
    if v.is_finite() && v > 0.0 && v <= verity_core::MAX_SECONDS {
        Ok(v)
    } else {
        Err(Failure::input(format!(
            "{name} must be a positive number of seconds, at most {}, not {}",
            verity_core::MAX_SECONDS,
            config::readable(v)
        )))
    }
}

use crate::config::MAX_JOBS;

fn resolve(args: &ValidateArgs) -> Result<Settings, Failure> {
    let file = config::locate(args.config.as_deref());
    let profile_name = args.profile.clone().unwrap_or_else(|| "default".into());
    let p = config::load(file.as_deref(), &profile_name)?;

    let corpus_given = args.corpus.clone().or(p.corpus);
    let builtin_corpus = corpus_given.is_none();
    let corpus = corpus_given.unwrap_or_else(super::sample_corpus);
    let default_jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let jobs = args.jobs.or(p.jobs).unwrap_or(default_jobs);
    if jobs == 0 || jobs > MAX_JOBS {
        return Err(Failure::input(format!(
            "--jobs must be between 1 and {MAX_JOBS}, not {jobs}"
        )));
    }
    let timeout = positive("--timeout", args.timeout.or(p.timeout).unwrap_or(30.0))?;
    let global_timeout = args
        .global_timeout
        .or(p.global_timeout)
        .map(|t| positive("--global-timeout", t))
        .transpose()?;
    let progress_interval = positive(
        "--progress-interval",
        args.progress_interval
            .or(p.progress_interval)
            .unwrap_or(5.0),
    )?;

    // Accuracy thresholds: 100% for every type unless set.
    let mut min_accuracy: BTreeMap<String, f64> = QueryType::ALL
        .iter()
        .map(|t| (t.name().to_string(), 100.0))
        .collect();
    match (args.min_accuracy, p.min_accuracy) {
        (Some(all), _) | (None, Some(MinAccuracy::All(all))) => {
            for v in min_accuracy.values_mut() {
                *v = all;
            }
        }
        (None, Some(MinAccuracy::PerType(m))) => {
            for (k, v) in m {
                let t = k
                    .parse::<QueryType>()
                    .map_err(|e| Failure::input(format!("min-accuracy: {e}")))?;
                min_accuracy.insert(t.name().to_string(), v);
            }
        }
        (None, None) => {}
    }
    if let Some((t, v)) = min_accuracy
        .iter()
        .find(|(_, v)| !(0.0..=100.0).contains(*v))
    {
        return Err(Failure::input(format!(
            "minimum accuracy for {t} must be between 0 and 100, not {v}"
        )));
    }

    let min_recall = args
        .min_recall
        .or(p.min_recall)
        .unwrap_or(verity_report::model::DEFAULT_MIN_RECALL);
    if !(0.0..=1.0).contains(&min_recall) {
        return Err(Failure::input(format!(
            "minimum recall must be between 0 and 1, not {min_recall}"
        )));
    }
    let vector_search = match (args.vector_search, &p.vector_search) {
        (Some(m), _) => m,
        (None, Some(name)) => name
            .parse::<VectorSearch>()
            .map_err(|e| Failure::input(format!("vector-search: {e}")))?,
        (None, None) => VectorSearch::default(),
    };

    let partition = match args.partition.clone().or(p.partition) {
        Some(s) => Some(s.parse::<Partition>().map_err(Failure::input)?),
        None => None,
    };
    let formats = match (&args.format, p.format) {
        (Some(f), _) if !f.is_empty() => f.clone(),
        (_, Some(f)) => f,
        _ => vec![
            "json".into(),
            "junit".into(),
            "md".into(),
            "html".into(),
            "trec".into(),
        ],
    };
    let mut fs = Vec::new();
    for f in &formats {
        let f: Format = f.parse().map_err(Failure::input)?;
        if !fs.contains(&f) {
            fs.push(f);
        }
    }
    let types = args
        .types
        .clone()
        .filter(|t| !t.is_empty())
        .or(p.types)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            t.parse::<QueryType>()
                .map_err(|e| Failure::input(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_rss = match args.max_rss.clone().or(p.max_rss) {
        Some(s) => {
            Some(config::parse_size(&s).map_err(|e| Failure::input(format!("--max-rss: {e}")))?)
        }
        None => None,
    };
    let backend = match args.backend.clone().or(p.backend) {
        Some(spec) => spec
            .parse::<BackendSpec>()
            .map_err(|e| Failure::input(format!("--backend: {e}")))?,
        None => BackendSpec::Verity,
    };
    Ok(Settings {
        profile: profile_name,
        backend,
        corpus,
        builtin_corpus,
        truth: args.truth.clone().or(p.truth),
        index: args.index.clone().or(p.index),
        cases: args.cases.or(p.cases).unwrap_or(1000),
        seed: args.seed.or(p.seed).unwrap_or(1),
        jobs,
        timeout,
        retries: args.retries.or(p.retries).unwrap_or(2),
        history: args.history.clone().or(p.history),
        rerun_failed: args.rerun_failed.clone(),
        repeat: match args.repeat.or(p.repeat).unwrap_or(1) {
            0 => return Err(Failure::input("--repeat must be at least 1")),
            n => n,
        },
        max_fail: args.max_fail.or(p.max_fail),
        fail_fast: args.fail_fast || p.fail_fast.unwrap_or(false),
        min_accuracy,
        min_recall,
        vector_search,
        partition,
        output: args
            .output
            .clone()
            .or(p.output)
            .unwrap_or_else(|| PathBuf::from("verity-report")),
        formats: fs,
        types,
        tags: args
            .tags
            .clone()
            .filter(|t| !t.is_empty())
            .or(p.tags)
            .unwrap_or_default(),
        max_rss,
        global_timeout,
        progress_interval,
    })
}

pub fn run(args: &ValidateArgs) -> CmdResult {
    let s = resolve(args)?;
    crate::render::check_output(&s.output)?;
    let settings = ValidateSettings {
        profile: s.profile.clone(),
        backend: s.backend.clone(),
        corpus: s.corpus.clone(),
        corpus_label: s
            .builtin_corpus
            .then(|| "sample-corpus (built in)".to_string()),
        truth: s.truth.clone(),
        index: s.index.clone(),
        cases: s.cases,
        seed: s.seed,
        walk: WalkRules::from(&args.walk.corpus_rules()),
        vectors: args.vectors.config()?,
        vector_search: s.vector_search,
        jobs: s.jobs,
        timeout: s.timeout,
        retries: s.retries,
        history: s.history.clone(),
        rerun_failed: s.rerun_failed.clone(),
        repeat: s.repeat,
        max_fail: s.max_fail,
        fail_fast: s.fail_fast,
        min_accuracy: s.min_accuracy.clone(),
        min_recall: s.min_recall,
        partition: s.partition,
        types: s.types.clone(),
        tags: s.tags.clone(),
        max_rss: s.max_rss,
        global_timeout: s.global_timeout,
    };
    let mut progress = verity_report::progress::ProgressReporter::new(
        !args.no_progress,
        verity_core::seconds(s.progress_interval),
    );
    // Installed before anything starts: an interrupt in any phase ends in a report.
    let interrupt = CancelToken::new();
    if let Err(e) = watch_signals(interrupt.clone()) {
        eprintln!("warning: no signal handler ({e}): Ctrl-C ends the run without reports");
    }
    let note = |note: &str| eprintln!("{note}");
    let report = verity_pipeline::validate(&settings, &interrupt, &note, &mut progress)
        .map_err(|e| Failure::classified(e.is_user_error(), e))?;
    crate::render::finish(&report, &s.output, &s.formats)
}

/// Sets `token` on the first SIGINT (Ctrl-C) or SIGTERM: the run stops starting work and
/// writes a partial report. A second signal ends the process at once (exit 130), for a user
/// who will not wait for running cases to finish. The handlers are installed before this
/// returns, on a thread of their own, so they work in every phase (the index build and the
/// truth are computed outside any async runtime).
fn watch_signals(token: CancelToken) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let signals = rt.block_on(async { crate::signals::Signals::new() })?;
    std::thread::Builder::new()
        .name("verity-signals".into())
        .spawn(move || {
            rt.block_on(async move {
                let mut signals = signals;
                let first = signals.next().await;
                eprintln!(
                    "{first}: stopping — running cases finish, then a partial report is written (again to quit at once)"
                );
                token.cancel();
                let second = signals.next().await;
                eprintln!("{second} again: quitting without a report");
                std::process::exit(i32::from(exit::INTERRUPTED));
            })
        })?;
    Ok(())
}
