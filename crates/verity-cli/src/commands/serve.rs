//! `verity serve`: the engine as an HTTP service (docs/serve.md), or with `--stdio` behind
//! the Verity backend protocol on stdin/stdout, so that an index is validated through the
//! same process boundary as any other engine.

use std::io::{BufReader, IsTerminal, Write};
use std::process::ExitCode;

use verity_server::{is_exposed, parse_listen, ServeConfig, Server};
use verity_validation::protocol::serve;
use verity_validation::EngineBackend;

use crate::exit::{CmdResult, Failure};
use crate::ServeArgs;

pub fn run(args: &ServeArgs) -> CmdResult {
    if args.stdio {
        return stdio(args);
    }
    let addr = parse_listen(&args.listen).map_err(Failure::input)?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(Failure::input(format!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        )));
    }
    let mut config = ServeConfig::new(&args.index);
    config.vector_search = args.vector_search;
    config.max_timeout = verity_core::seconds(args.timeout);
    if let Some(n) = args.max_concurrent {
        if n == 0 {
            return Err(Failure::input("--max-concurrent must be at least 1"));
        }
        config.max_concurrent = n;
    }
    if let Some(n) = args.max_queued {
        config.max_queued = n;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the server's runtime: {e}")))?;
    rt.block_on(async move {
        let server = Server::bind(config, addr).await.map_err(|e| match e {
            verity_server::ServeError::Engine(e) => Failure::from(e),
            verity_server::ServeError::Bind { .. } | verity_server::ServeError::Listen(_) => {
                Failure::input(e)
            }
            e => Failure::internal(e),
        })?;
        let local = server.local_addr();
        let state = server.state();
        let served = state.index.current();
        if is_exposed(&local) {
            eprintln!(
                "warning: listening on {local}, which other machines can reach; the service has no authentication"
            );
        }
        // The address on stdout, first and alone, so that scripts (and tests) that asked for
        // port 0 can read it.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "verity serve: http://{local}/ (index {}, generation {}, {} files)",
            args.index.display(),
            served.generation,
            served.index().num_files()
        );
        let _ = out.flush();
        drop(out);
        drop(served);
        let mut signals = crate::signals::Signals::new()
            .map_err(|e| Failure::internal(format!("cannot install signal handlers: {e}")))?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let first = signals.next().await;
            eprintln!("{first}: finishing the requests in flight (again to quit at once)");
            let _ = stop_tx.send(());
            let second = signals.next().await;
            eprintln!("{second} again: quitting");
            std::process::exit(i32::from(verity_core::exit::INTERRUPTED));
        });
        server
            .run(async move {
                let _ = stop_rx.await;
            })
            .await
            .map_err(Failure::internal)?;
        let m = state.metrics.snapshot();
        eprintln!("verity serve: stopped after {} searches", m.queries_served);
        Ok(ExitCode::SUCCESS)
    })
}

fn stdio(args: &ServeArgs) -> CmdResult {
    let backend = EngineBackend::open(&args.index)?.with_vector_search(args.vector_search);
    let handshake = backend.handshake();
    if std::io::stdin().is_terminal() {
        eprintln!("verity serve --stdio: reading protocol requests, one JSON object per line");
    }
    serve(
        &backend,
        &handshake,
        BufReader::new(std::io::stdin().lock()),
        std::io::stdout().lock(),
    )
    .map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Failure::closed_pipe(),
        _ => Failure::internal(format!("serve: {e}")),
    })?;
    Ok(ExitCode::SUCCESS)
}
