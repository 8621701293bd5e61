//! `verity corpus synth`: a large synthetic source tree for scale tests.

use std::process::ExitCode;
use std::time::Instant;

use crate::exit::{CmdResult, Failure};
use crate::out::outln;
use crate::CorpusCommand;

pub fn run(cmd: &CorpusCommand) -> CmdResult {
    let CorpusCommand::Synth { files, seed, dir } = cmd;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?
            .next()
            .is_some()
    {
        return Err(Failure::input(format!(
            "{}: not empty (synth writes into a new or empty directory)",
            dir.display()
        )));
    }
    let t = Instant::now();
    let bytes = verity_validation::synth::write_tree(dir, *files, *seed)
        .map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    outln!(
        "wrote {files} files ({:.1} MiB) to {} in {:.1}s (seed {seed})",
        bytes as f64 / 1048576.0,
        dir.display(),
        t.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}
