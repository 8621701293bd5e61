//! What a server is told: where the index is, where to listen, and its limits.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use verity_engine::VectorSearch;

use crate::error::ServeError;

/// The address `verity serve` listens on unless told otherwise: loopback only.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 7700);

/// Settings of one server. [`ServeConfig::new`] gives the defaults `verity serve` documents
/// (docs/serve.md).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The index directory; the server follows its published generation.
    pub index: PathBuf,
    /// How vector searches find chunks; the index's own setting when `None`.
    pub vector_search: Option<VectorSearch>,
    /// Searches running at once. More wait in the queue.
    pub max_concurrent: usize,
    /// Searches waiting for a slot; past this, requests are refused at once with
    /// `503 Service Unavailable` and `Retry-After`.
    pub max_queued: usize,
    /// The largest request body accepted, in bytes (`413` past it).
    pub max_body_bytes: usize,
    /// The longest query accepted, in bytes (`400` past it).
    pub max_query_bytes: usize,
    /// The most files one search may return.
    pub max_limit: usize,
    /// Files returned when a request names no `limit`.
    pub default_limit: usize,
    /// Matching lines kept per file.
    pub max_lines_per_file: usize,
    /// Every search's deadline, counted from the request's arrival (queueing included); a
    /// request's `timeout_ms` can only shorten it.
    pub max_timeout: Duration,
    /// How often the server looks for a new index generation.
    pub reload_interval: Duration,
}

impl ServeConfig {
    /// The defaults for an index at `index`.
    pub fn new(index: impl Into<PathBuf>) -> ServeConfig {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ServeConfig {
            index: index.into(),
            vector_search: None,
            max_concurrent: cores,
            max_queued: 64 * cores,
            max_body_bytes: 64 * 1024,
            max_query_bytes: 4096,
            max_limit: 10_000,
            default_limit: 100,
            max_lines_per_file: 20,
            max_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_millis(250),
        }
    }
}

/// The address to listen on, from `--listen`: `IP:PORT`, `[IPv6]:PORT`, `localhost:PORT` or
/// a bare port (loopback). A host name other than `localhost` is refused, because what it
/// resolves to is not named on the command line; a non-loopback address is served only
/// because `--listen` spelled it out, and [`is_exposed`] says so to print a warning.
pub fn parse_listen(s: &str) -> Result<SocketAddr, ServeError> {
    let bad = |why: &str| ServeError::Listen(format!("--listen {s:?}: {why}"));
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port = port
            .parse::<u16>()
            .map_err(|_| bad("the port must be a number from 0 to 65535"))?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() && host.parse::<IpAddr>().is_err() => {
            Err(bad("name the address as an IP (`127.0.0.1:7700`, `[::1]:7700`) or `localhost`; a host name could resolve to an address nobody meant to expose"))
        }
        _ => Err(bad(
            "expected IP:PORT, [IPv6]:PORT, localhost:PORT or a port number",
        )),
    }
}

/// Is `addr` reachable from other machines (not loopback)?
pub fn is_exposed(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            parse_listen("7701").unwrap(),
            "127.0.0.1:7701".parse().unwrap()
        );
        assert_eq!(
            parse_listen("localhost:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_listen("[::1]:80").unwrap(),
            "[::1]:80".parse().unwrap()
        );
        assert!(!is_exposed(&parse_listen("127.0.0.1:7700").unwrap()));
        assert!(is_exposed(&parse_listen("0.0.0.0:7700").unwrap()));
        let e = parse_listen("example.com:80").unwrap_err().to_string();
        assert!(e.contains("host name"), "{e}");
        let e = parse_listen("localhost:99999").unwrap_err().to_string();
        assert!(e.contains("port"), "{e}");
        assert!(parse_listen("").is_err());
    }
}
