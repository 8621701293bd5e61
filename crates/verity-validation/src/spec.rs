//! Which engine `verity validate` checks: the `--backend` argument, parsed.

/// Which engine `verity validate` checks (`--backend`, docs/backends.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendSpec {
    /// Verity's embedded engine (the default).
    Verity,
    /// A child process speaking the backend protocol, started with `sh -c COMMAND`.
    Exec(String),
    /// A service speaking the backend protocol over HTTP at this URL.
    Http(String),
    /// A built-in adapter for a command-line tool.
    Tool(crate::adapter::Tool),
}

impl std::str::FromStr for BackendSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "verity" {
            return Ok(BackendSpec::Verity);
        }
        if let Some(cmd) = s.strip_prefix("exec:") {
            if cmd.trim().is_empty() {
                return Err("`exec:` needs a command, e.g. `exec:python3 engine.py`".into());
            }
            return Ok(BackendSpec::Exec(cmd.to_string()));
        }
        if s.starts_with("http://") {
            return Ok(BackendSpec::Http(s.to_string()));
        }
        if s.starts_with("https://") {
            return Err(format!(
                "`{s}`: HTTPS is not supported (Verity is built without TLS); use http:// on a trusted network, or an `exec:` backend"
            ));
        }
        s.parse().map(BackendSpec::Tool).map_err(|_| {
            format!(
                "unknown backend `{s}` (expected verity, exec:COMMAND, http://HOST:PORT/PATH, rg, grep, git-grep, ugrep or csearch)"
            )
        })
    }
}

impl std::fmt::Display for BackendSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendSpec::Verity => f.write_str("verity"),
            BackendSpec::Exec(cmd) => write!(f, "exec:{cmd}"),
            BackendSpec::Http(url) => f.write_str(url),
            BackendSpec::Tool(t) => f.write_str(t.name()),
        }
    }
}
