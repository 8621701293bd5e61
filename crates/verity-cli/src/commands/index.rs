//! `verity index DIR`: build or update an index.

use std::path::Path;
use std::process::ExitCode;

use std::io::IsTerminal;
use std::sync::Arc;

use verity_engine::index::ProgressHook;
use verity_engine::{BuildOptions, BuildReport, CodeIndex, WalkOptions};

use crate::exit::{CmdResult, Failure, NO_MATCH};
use crate::out::outln;
use crate::{IndexArgs, WalkArgs};

impl WalkArgs {
    pub fn options(&self) -> WalkOptions {
        WalkOptions {
            respect_ignore_files: !self.no_ignore,
            hidden: self.hidden,
            default_excludes: !self.no_default_excludes,
            max_file_size: self.max_filesize,
        }
    }
}

pub fn run(args: &IndexArgs) -> CmdResult {
    let index_dir = match (&args.index, &args.dir) {
        (Some(index), _) => index.clone(),
        (None, Some(dir)) => dir.join(".verity"),
        (None, None) => return Err(Failure::input("--verify needs --index PATH (or DIR)")),
    };
    if args.verify {
        return verify(&index_dir, args.json);
    }
    let dir = args
        .dir
        .as_deref()
        .expect("clap requires DIR unless --verify");
    let mut opts = BuildOptions {
        walk: args.walk.options(),
        rebuild: args.rebuild,
        vectors: args.vectors.config()?,
        vector_search: args.vector_search,
        text_compression: args.text_compression.into(),
        ..BuildOptions::default()
    };
    if let Some(t) = args.threads {
        if t == 0 {
            return Err(Failure::input("--threads must be at least 1"));
        }
        opts.threads = t;
    }
    // Embedding is the slow part of a build with MiniLM: show it on a terminal.
    let bar = (opts.vectors.is_some() && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "embedding {bar:30} {pos}/{len} files  {per_sec}  eta {eta}",
            )
            .expect("valid template"),
        );
        bar
    });
    if let Some(bar) = &bar {
        let bar = bar.clone();
        opts.progress = Some(ProgressHook(Arc::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })));
    }
    let built = CodeIndex::build(dir, &index_dir, &opts);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (index, report) = built?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        )?;
    } else {
        crate::render::print_summary(&report, &index, &index_dir.display().to_string())?;
        if args.verbose {
            print_details(&report)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `verity index --verify`: every file of the current generation against its checksum.
fn verify(index_dir: &Path, json: bool) -> CmdResult {
    let index = CodeIndex::open(index_dir)?;
    let v = index.verify()?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&v).expect("verification serializes")
        )?;
    }
    let gen_dir = index.generation_dir().display().to_string();
    if v.is_intact() {
        if !json {
            outln!(
                "{}: intact ({} files, {:.1} MiB, generation {})",
                index_dir.display(),
                v.files,
                v.bytes as f64 / (1024.0 * 1024.0),
                index.generation()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !json {
        for f in &v.damaged {
            outln!("damaged\t{gen_dir}/{f}")?;
        }
        for f in &v.missing {
            outln!("missing\t{gen_dir}/{f}")?;
        }
        for f in &v.unlisted {
            outln!("unlisted\t{gen_dir}/{f}")?;
        }
    }
    // The check ran and the answer is no: exit 1, as a truth check that finds problems.
    Err(Failure {
        code: NO_MATCH,
        message: format!(
        "index at {} is damaged: {} damaged, {} missing, {} unlisted of {} files (rebuild it with `verity index --rebuild`)",
        index_dir.display(),
        v.damaged.len(),
        v.missing.len(),
        v.unlisted.len(),
        v.files
    ),
    })
}

fn print_details(r: &BuildReport) -> Result<(), Failure> {
    for s in &r.skipped {
        let path = verity_core::path::display(&s.path);
        match &s.detail {
            Some(d) => outln!("skipped\t{}\t{}\t{}", s.reason, path, d)?,
            None => outln!("skipped\t{}\t{}", s.reason, path)?,
        }
    }
    for p in &r.lossy {
        outln!("lossy\t{}", verity_core::path::display(p))?;
    }
    Ok(())
}
