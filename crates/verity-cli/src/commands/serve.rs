//! `verity serve --stdio`: the embedded engine behind the Verity backend protocol, so that an
//! index is validated through the same process boundary as any other engine.

use std::io::{BufReader, IsTerminal};
use std::process::ExitCode;

use verity_engine::CodeIndex;
use verity_validation::protocol::{serve, Handshake, WalkRules, PROTOCOL_VERSION};
use verity_validation::{EngineBackend, QueryType};

use crate::exit::{CmdResult, Failure, INTERNAL_ERROR};
use crate::ServeArgs;

pub fn run(args: &ServeArgs) -> CmdResult {
    if !args.stdio {
        return Err(Failure::input(
            "serving over HTTP is not implemented yet: use --stdio (the backend protocol, docs/backends.md)",
        ));
    }
    let index = CodeIndex::open(&args.index)?;
    let meta = index.meta();
    let walk = WalkRules {
        hidden: meta.walk.hidden,
        ignore_files: meta.walk.respect_ignore_files,
        default_excludes: meta.walk.default_excludes,
        max_filesize: meta.walk.max_file_size,
        files: None,
    };
    // Without vectors the engine answers only the text types; it says so up front.
    let query_types: Vec<QueryType> = if index.vector_index().is_some() {
        QueryType::ALL.to_vec()
    } else {
        QueryType::TEXT.to_vec()
    };
    let handshake = Handshake {
        protocol: PROTOCOL_VERSION,
        engine: "verity-engine".into(),
        version: verity_engine::VERSION.into(),
        query_types: Some(query_types),
        lines: true,
        concurrent: false,
        walk: Some(walk),
    };
    if std::io::stdin().is_terminal() {
        eprintln!("verity serve --stdio: reading protocol requests, one JSON object per line");
    }
    let backend = EngineBackend::new(index).with_vector_search(args.vector_search);
    serve(
        &backend,
        &handshake,
        BufReader::new(std::io::stdin().lock()),
        std::io::stdout().lock(),
    )
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Failure::closed_pipe(),
        _ => Failure {
            code: INTERNAL_ERROR,
            message: format!("serve: {e}"),
        },
    })?;
    Ok(ExitCode::SUCCESS)
}
