//! `--backend exec:COMMAND`: a search engine in a long-running child process, spoken to with
//! the Verity backend protocol ([`crate::protocol`], docs/backends.md).
//!
//! Each concurrent search uses a child of its own: children are kept in an idle pool and a
//! search takes one (or starts one), so a run with N workers ends up with N children. A child
//! that misses its deadline is sent SIGTERM, then SIGKILL after a grace period, and dropped;
//! one that exits, or prints a line that is not a protocol response, is dropped too and the
//! case gets a retryable [`BackendError::Protocol`] naming what happened (with the line, or
//! the end of the child's stderr). The next search starts a fresh child. Responses to other
//! ids (a stale answer) are skipped.
//!
//! An engine whose handshake says `concurrent` gets one process and every request at once: a
//! dispatcher thread hands each response line to the search waiting for its id. A missed
//! deadline then abandons the request only (the others are still being answered); a process
//! that exits or prints garbage fails every request in flight and is replaced.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use verity_core::Deadline;

use crate::backend::{BackendError, BackendQuery, BackendResponse, SearchBackend};
use crate::protocol::{quote, Handshake, Request, Response, PROTOCOL_VERSION};

/// How patient to be with child processes.
#[derive(Debug, Clone, Copy)]
pub struct ExecOptions {
    /// How long a new child has to print its handshake.
    pub startup_timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            startup_timeout: Duration::from_secs(30),
            grace: Duration::from_millis(500),
        }
    }
}

/// Lines of a child's stderr kept for error messages.
const STDERR_LINES: usize = 8;
/// How often a waiting search looks at its cancel token.
const POLL: Duration = Duration::from_millis(50);

/// A backend process, started with `sh -c COMMAND` in the current directory.
pub struct ExecBackend {
    command: String,
    corpus: String,
    options: ExecOptions,
    handshake: Handshake,
    name: String,
    idle: Mutex<Vec<Engine>>,
    /// The one process of a `concurrent` engine.
    shared: Mutex<Option<Arc<Multiplexed>>>,
    next_id: AtomicU64,
    started: AtomicUsize,
}

/// What a waiting search hears from the dispatcher: its response, or why there is none.
type Delivery = Result<Response, String>;

/// One process answering many requests at once (a `concurrent` handshake).
struct Multiplexed {
    stdin: Mutex<ChildStdin>,
    pending: Mutex<HashMap<String, mpsc::Sender<Delivery>>>,
    /// Set once the process broke (exited, garbage): the next search starts another.
    broken: AtomicBool,
    child: Mutex<Option<Child>>,
}

impl Multiplexed {
    /// Starts the dispatcher of `engine`'s output.
    fn start(engine: Engine, grace: Duration) -> Arc<Multiplexed> {
        let Engine {
            child,
            stdin,
            lines,
            stderr,
            stderr_done,
        } = engine;
        let m = Arc::new(Multiplexed {
            stdin: Mutex::new(stdin),
            pending: Mutex::new(HashMap::new()),
            broken: AtomicBool::new(false),
            child: Mutex::new(Some(child)),
        });
        let d = m.clone();
        std::thread::spawn(move || {
            for line in lines.iter() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Response>(&line) {
                    Ok(r) => match d.pending_map().remove(&r.id) {
                        Some(tx) => {
                            let _ = tx.send(Ok(r));
                        }
                        None => tracing::warn!(
                            "backend answered unknown (or abandoned) id {:?}; skipped",
                            r.id
                        ),
                    },
                    Err(e) => {
                        d.fail(format!(
                            "the backend printed a line that is not a protocol response ({e}): {}",
                            quote(&line)
                        ));
                        if let Some(child) = d.take_child() {
                            stop(child, grace);
                        }
                        return;
                    }
                }
            }
            // End of output: the process stopped.
            let status = d
                .take_child()
                .map_or_else(|| "stopped".to_string(), |c| reap(c, grace));
            let _ = stderr_done.recv_timeout(Duration::from_millis(200));
            let tail: Vec<String> = stderr
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned()
                .collect();
            d.fail(if tail.is_empty() {
                format!("the backend {status}")
            } else {
                format!(
                    "the backend {status}; its stderr ended with: {}",
                    tail.join(" | ")
                )
            });
        });
        m
    }

    fn pending_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<Delivery>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_child(&self) -> Option<Child> {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Marks the process broken and fails every request in flight with `why`.
    fn fail(&self, why: String) {
        self.broken.store(true, Ordering::Release);
        for (_, tx) in self.pending_map().drain() {
            let _ = tx.send(Err(why.clone()));
        }
    }
}

/// One running child.
struct Engine {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Disconnected once the stderr reader has read everything.
    stderr_done: Receiver<()>,
}

impl ExecBackend {
    /// Starts one child and reads its handshake, so that a wrong command or protocol fails
    /// before any case runs.
    pub fn start(
        command: &str,
        corpus: &Path,
        options: ExecOptions,
    ) -> Result<ExecBackend, BackendError> {
        let corpus = std::fs::canonicalize(corpus)
            .map_err(|e| BackendError::Io(format!("{}: {e}", corpus.display())))?;
        let corpus = corpus.to_string_lossy().into_owned();
        let (engine, handshake) = spawn(command, options.startup_timeout)?;
        let name = handshake.name();
        let (idle, shared) = if handshake.concurrent {
            (Vec::new(), Some(Multiplexed::start(engine, options.grace)))
        } else {
            (vec![engine], None)
        };
        Ok(ExecBackend {
            command: command.to_string(),
            corpus,
            options,
            handshake,
            name,
            idle: Mutex::new(idle),
            shared: Mutex::new(shared),
            next_id: AtomicU64::new(1),
            started: AtomicUsize::new(1),
        })
    }

    /// What the engine said about itself.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Children started so far (the first one included): restarts show here.
    pub fn processes_started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    fn take(&self) -> Result<Engine, BackendError> {
        if let Some(e) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(e);
        }
        self.restart()
    }

    /// Starts another process, which must give the same handshake.
    fn restart(&self) -> Result<Engine, BackendError> {
        let (engine, handshake) = spawn(&self.command, self.options.startup_timeout)?;
        self.started.fetch_add(1, Ordering::Relaxed);
        if handshake.protocol != self.handshake.protocol
            || handshake.engine != self.handshake.engine
        {
            terminate(engine, self.options.grace);
            return Err(BackendError::Protocol(
                "a restarted backend process gave a different handshake".into(),
            ));
        }
        Ok(engine)
    }

    /// The process of a concurrent engine, started again if it broke.
    fn multiplexed(&self) -> Result<Arc<Multiplexed>, BackendError> {
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = &*shared {
            if !m.broken.load(Ordering::Acquire) {
                return Ok(m.clone());
            }
            if let Some(child) = m.take_child() {
                stop(child, self.options.grace);
            }
        }
        let m = Multiplexed::start(self.restart()?, self.options.grace);
        *shared = Some(m.clone());
        Ok(m)
    }

    /// A search on the one process of a concurrent engine.
    fn search_multiplexed(
        &self,
        request: &Request,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let m = self.multiplexed()?;
        let (tx, rx) = mpsc::channel();
        m.pending_map().insert(request.id.clone(), tx);
        let mut line = serde_json::to_string(request).expect("a request serializes");
        line.push('\n');
        let sent = {
            let mut stdin = m.stdin.lock().unwrap_or_else(|p| p.into_inner());
            stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush())
        };
        if let Err(e) = sent {
            m.pending_map().remove(&request.id);
            m.broken.store(true, Ordering::Release);
            return Err(BackendError::Protocol(format!(
                "could not send the query: {e}"
            )));
        }
        loop {
            let wait = match deadline.instant() {
                Some(at) => at.saturating_duration_since(Instant::now()).min(POLL),
                None => POLL,
            };
            match rx.recv_timeout(wait) {
                Ok(Ok(r)) => return r.into_result(),
                Ok(Err(why)) => return Err(BackendError::Protocol(why)),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(why) = deadline.check() {
                        // Abandon this request only: the others in flight still count.
                        m.pending_map().remove(&request.id);
                        return Err(why.into());
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(BackendError::Protocol("the backend stopped".into()))
                }
            }
        }
    }

    fn give_back(&self, engine: Engine) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(engine);
    }
}

impl SearchBackend for ExecBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn reports_lines(&self) -> bool {
        self.handshake.lines
    }

    fn walk_rules(&self) -> Option<crate::protocol::WalkRules> {
        self.handshake.walk.clone()
    }

    fn search(
        &self,
        q: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        self.handshake.check_supports(q.query_type)?;
        deadline.check()?;
        // Unique per attempt, so that a late answer to an earlier attempt is never taken for
        // this one's.
        let id = format!("{}#{}", q.id, self.next_id.fetch_add(1, Ordering::Relaxed));
        let request = Request {
            id: id.clone(),
            query: q.query.to_string(),
            query_type: q.query_type,
            k: q.k,
            deadline_ms: deadline
                .instant()
                .map(|t| t.saturating_duration_since(Instant::now()).as_millis() as u64),
            corpus: self.corpus.clone(),
        };
        if self.handshake.concurrent {
            return self.search_multiplexed(&request, deadline);
        }
        let mut engine = self.take()?;
        let mut line = serde_json::to_string(&request).expect("a request serializes");
        line.push('\n');
        if let Err(e) = engine
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| engine.stdin.flush())
        {
            let why = died(engine, self.options.grace);
            return Err(BackendError::Protocol(format!(
                "could not send the query ({e}): {why}"
            )));
        }
        loop {
            let wait = match deadline.instant() {
                Some(at) => at.saturating_duration_since(Instant::now()).min(POLL),
                None => POLL,
            };
            match engine.lines.recv_timeout(wait) {
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => match serde_json::from_str::<Response>(&line) {
                    Ok(r) if r.id == id => {
                        self.give_back(engine);
                        return r.into_result();
                    }
                    Ok(r) => {
                        tracing::warn!(
                            "backend answered unknown id {:?} while {id:?} was asked; skipped",
                            r.id
                        );
                    }
                    Err(e) => {
                        terminate(engine, self.options.grace);
                        return Err(BackendError::Protocol(format!(
                            "the backend printed a line that is not a protocol response ({e}): {}",
                            quote(&line)
                        )));
                    }
                },
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(why) = deadline.check() {
                        terminate(engine, self.options.grace);
                        return Err(why.into());
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let why = died(engine, self.options.grace);
                    return Err(BackendError::Protocol(format!(
                        "the backend stopped while answering {id}: {why}"
                    )));
                }
            }
        }
    }
}

impl Drop for ExecBackend {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for engine in idle {
            // End of input is the polite way to ask a protocol engine to exit.
            let Engine { child, stdin, .. } = engine;
            drop(stdin);
            stop(child, self.options.grace);
        }
        let shared = self.shared.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(child) = shared.and_then(|m| m.take_child()) {
            stop(child, self.options.grace);
        }
    }
}

/// Starts `sh -c command` in its own process group and reads its handshake.
fn spawn(command: &str, startup_timeout: Duration) -> Result<(Engine, Handshake), BackendError> {
    let mut cmd = Command::new("sh");
    // In the caller's working directory, so that relative paths in the command mean what they
    // mean on the command line; the corpus root travels in every request.
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own group, so that SIGTERM reaches the engine behind `sh -c` and its helpers.
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| BackendError::Unavailable(format!("starting `{command}`: {e}")))?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr_pipe = child.stderr.take().expect("stderr is piped");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let stderr = Arc::new(Mutex::new(VecDeque::new()));
    let tail = stderr.clone();
    let (done, stderr_done) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let _done = done;
        let mut reader = BufReader::new(stderr_pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                    if t.len() == STDERR_LINES {
                        t.pop_front();
                    }
                    t.push_back(String::from_utf8_lossy(&buf).trim_end().to_string());
                }
            }
        }
    });
    let engine = Engine {
        child,
        stdin,
        lines,
        stderr,
        stderr_done,
    };
    let first = match engine.lines.recv_timeout(startup_timeout) {
        Ok(line) => line,
        Err(RecvTimeoutError::Timeout) => {
            terminate(engine, Duration::from_millis(200));
            return Err(BackendError::Unavailable(format!(
                "`{command}` printed no handshake within {:.1} s",
                startup_timeout.as_secs_f64()
            )));
        }
        Err(RecvTimeoutError::Disconnected) => {
            let why = died(engine, Duration::from_millis(200));
            return Err(BackendError::Unavailable(format!(
                "`{command}` stopped before its handshake: {why}"
            )));
        }
    };
    let handshake: Handshake = match serde_json::from_str(&first) {
        Ok(h) => h,
        Err(e) => {
            terminate(engine, Duration::from_millis(200));
            return Err(BackendError::Unavailable(format!(
                "`{command}`'s first line is not a protocol handshake ({e}): {}",
                quote(&first)
            )));
        }
    };
    if handshake.protocol != PROTOCOL_VERSION {
        terminate(engine, Duration::from_millis(200));
        return Err(BackendError::Unavailable(format!(
            "`{command}` speaks protocol version {}, this Verity speaks {PROTOCOL_VERSION}",
            handshake.protocol
        )));
    }
    Ok((engine, handshake))
}

/// A child that stopped (or is stopped now): its exit status and the end of its stderr.
fn died(engine: Engine, grace: Duration) -> String {
    let Engine {
        child,
        stderr,
        stderr_done,
        ..
    } = engine;
    let status = reap(child, grace);
    // Let the stderr reader drain the last lines (it ends when the pipe closes; a helper
    // process that inherited the pipe could keep it open, so not forever).
    let _ = stderr_done.recv_timeout(Duration::from_millis(200));
    let tail = stderr;
    let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
    let tail: Vec<&str> = tail.iter().map(String::as_str).collect();
    if tail.is_empty() {
        status
    } else {
        format!("{status}; its stderr ended with: {}", tail.join(" | "))
    }
}

/// Stops a child whose output has closed: it is exiting, or about to, so it gets the grace
/// period to do so on its own (its own exit status is what messages then report) before
/// [`stop`].
fn reap(mut child: Child, grace: Duration) -> String {
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop(child, grace)
}

/// Stops a child that is still expected to be running.
fn terminate(engine: Engine, grace: Duration) {
    stop(engine.child, grace);
}

/// SIGTERM to the child's process group, SIGKILL after `grace`; reaps it. Returns how it
/// ended, for messages.
///
/// The whole group gets the grace period, not only the child: `sh -c` may exit on SIGTERM
/// while the engine it started ignores it, and that engine must not outlive the backend (it
/// did: orphans of the tests' TERM-ignoring engine stayed behind).
fn stop(mut child: Child, grace: Duration) -> String {
    #[cfg(unix)]
    {
        let group = -(child.id() as libc::pid_t);
        // SAFETY: kill(2) with a process group id we created (process_group(0) makes the
        // group id the child's pid); it touches no memory.
        let signal = |sig| unsafe { libc::kill(group, sig) };
        if signal(0) != 0 {
            // Nothing of the group is left.
            return match child.wait() {
                Ok(status) => format!("exited with {status}"),
                Err(e) => format!("could not be reaped: {e}"),
            };
        }
        signal(libc::SIGTERM);
        let until = Instant::now() + grace;
        let mut ended = None;
        while Instant::now() < until {
            if ended.is_none() {
                ended = child.try_wait().ok().flatten();
            }
            // The group is gone when signal 0 finds no member (ESRCH).
            if ended.is_some() && signal(0) != 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Whatever of the group is still there.
        signal(libc::SIGKILL);
        if let Some(status) = ended {
            return format!("terminated ({status})");
        }
    }
    let _ = child.kill();
    match child.wait() {
        Ok(status) => format!("killed ({status})"),
        Err(e) => format!("could not be reaped: {e}"),
    }
}
