//! A corpus, an index over it, and a server on a free loopback port.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use verity_engine::{BuildOptions, CodeIndex};
use verity_server::{AppState, ServeConfig, Server};

/// A small corpus with special characters, several lines per file, and a non-ASCII line.
pub fn corpus(root: &Path) {
    let files = [
        ("src/main.rs", "use std::io;\n\nfn main() {\n    let r: Result<T, E> = run();\n    r.unwrap();\n}\n"),
        ("src/lib.rs", "pub fn run() -> Result<(), Error> {\n    let m = lock.lock().unwrap();\n    Ok(())\n}\n"),
        ("src/cafe.rs", "// café au lait\nfn café() {}\n"),
        ("README.md", "# Demo\n\nRun `cargo run` to start.\n"),
    ];
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

pub fn build(root: &Path, index: &Path) -> CodeIndex {
    let opts = BuildOptions {
        threads: 1,
        ..BuildOptions::default()
    };
    CodeIndex::build(root, index, &opts).unwrap().0
}

/// A running server and what it serves.
pub struct Running {
    pub url: String,
    pub state: Arc<AppState>,
    pub root: tempfile::TempDir,
    pub index: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), verity_server::ServeError>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    /// A server over [`corpus`], with `adjust` applied to the default settings.
    pub fn start(adjust: impl FnOnce(&mut ServeConfig)) -> Running {
        let root = tempfile::tempdir().unwrap();
        corpus(root.path());
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index");
        build(root.path(), &index);
        let mut config = ServeConfig::new(&index);
        adjust(&mut config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(Server::bind(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let url = format!("http://{}", server.local_addr());
        let state = server.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(server.run(async move {
                let _ = stopped.await;
            }))
        });
        Running {
            url,
            state,
            root,
            index,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }

    /// Asks the server to stop (it finishes the requests in flight).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits until the server has stopped; it must stop without an error.
    pub fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            t.join().unwrap().unwrap();
        }
    }

    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    /// `POST path` with a JSON `body`: (status, parsed answer).
    pub fn post(&self, path: &str, body: &str) -> (u16, serde_json::Value) {
        let mut r = Running::agent()
            .post(&format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered {status} with non-JSON ({e}): {text}"));
        (status, json)
    }

    /// `GET path`: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut r = Running::agent()
            .get(&format!("{}{path}", self.url))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_string().unwrap())
    }

    /// Takes a search slot, as a long search would, until the slot is dropped.
    pub fn hold_slot(&self) -> verity_server::admission::Slot {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        rt.block_on(self.state.admission.admit(far)).unwrap()
    }

    pub fn search(&self, query: &str) -> (u16, serde_json::Value) {
        self.post(
            "/api/search",
            &serde_json::json!({ "query": query }).to_string(),
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
