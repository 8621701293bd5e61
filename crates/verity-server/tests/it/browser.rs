//! The search page in a real browser: headless Chromium driven over WebDriver (chromedriver,
//! from the distribution's `chromium` and `chromium-driver` packages). A user types a query,
//! sees files with their highlighted lines, opens a file at a line, and reads an error.
//!
//! Skipped when chromedriver or Chromium is missing, unless `VERITY_REQUIRE_BROWSER` is set
//! (CI sets it, and installs both).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::Running;

/// The WebDriver name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// A chromedriver process and one browser session.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(driver: &PathBuf, chromium: &PathBuf) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = agent
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < until, "chromedriver did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--user-data-dir={}", profile.path().display())],
        }}}});
        let mut b = Browser {
            driver,
            base,
            session: String::new(),
            agent,
            _profile: profile,
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().expect("a session id").to_string();
        b
    }

    /// One WebDriver command: its `value`; a WebDriver error fails the test.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = r.status().as_u16();
        let v: Value = r.body_mut().read_json().unwrap();
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn elements(&self, css: &str) -> Vec<String> {
        self.call(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[ELEMENT].as_str().unwrap().to_string())
        .collect()
    }

    /// The elements matching `css` once there are any (the page answers asynchronously).
    fn wait_for(&self, css: &str) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.elements(css);
            if !found.is_empty() {
                return found;
            }
            assert!(Instant::now() < until, "nothing matched {css:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None)
            .as_str()
            .unwrap()
            .to_string()
    }

    fn type_into(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn a_user_searches_sees_highlighted_lines_and_opens_a_file() {
    let required = std::env::var_os("VERITY_REQUIRE_BROWSER").is_some();
    let (Some(driver), Some(chromium)) = (
        which(&["chromedriver"]),
        which(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        assert!(
            !required,
            "VERITY_REQUIRE_BROWSER is set but chromedriver or chromium is missing"
        );
        eprintln!("skipped: chromedriver or chromium is not installed");
        return;
    };
    let s = Running::start(|_| {});
    let b = Browser::start(&driver, &chromium);
    b.call(
        "POST",
        "/url",
        Some(json!({ "url": format!("{}/", s.url) })),
    );

    // Type a query and press Enter.
    let q = b.wait_for("#q")[0].clone();
    b.type_into(&q, "unwrap\u{E007}");
    let paths: Vec<String> = b
        .wait_for(".hit a.path")
        .iter()
        .map(|e| b.text(e))
        .collect();
    // Ranked as the API ranks them (BM25: the shorter file first, in words: 11 against 13).
    assert_eq!(paths, ["src/lib.rs", "src/main.rs"]);
    let marks: Vec<String> = b.elements(".hit mark").iter().map(|e| b.text(e)).collect();
    assert_eq!(marks, ["unwrap", "unwrap"]);
    let status = b.text(&b.elements("#status")[0]);
    assert!(status.starts_with("2 of 2 matching files"), "{status}");

    // Open the first file at its matching line.
    let line_link = b.elements(".hit a.lineno")[0].clone();
    assert_eq!(b.text(&line_link), "2");
    b.call("POST", &format!("/element/{line_link}/click"), None);
    let target = b.wait_for("#file.open pre div.target")[0].clone();
    let row = b.text(&target);
    assert!(row.contains("let m = lock.lock().unwrap();"), "{row}");
    assert!(row.starts_with('2'), "{row}");
    let url = b.call("GET", "/url", None);
    assert!(url.as_str().unwrap().contains("file=src%2Flib.rs"), "{url}");

    // Back to the results, then a query the language refuses: the error points at the column.
    b.call("POST", "/back", None);
    b.wait_for(".hit a.path");
    b.call("POST", &format!("/element/{q}/clear"), None);
    b.type_into(&q, "regex:fn(\u{E007}");
    let error = b.text(&b.wait_for("#status .error")[0]);
    assert!(error.contains("regex:fn(\n"), "{error}");
    assert!(error.contains('^'), "{error}");

    // A vector query: files with their nearest chunks' line ranges and similarities.
    b.call("POST", &format!("/element/{q}/clear"), None);
    b.type_into(&q, "vector:start the program\u{E007}");
    let chunk = b.text(&b.wait_for(".hit .chunk")[0]);
    assert!(
        chunk.starts_with("lines ") && chunk.contains("similarity"),
        "{chunk}"
    );

    // The query language's help is one click away.
    let help = b.elements("#help-button")[0].clone();
    b.call("POST", &format!("/element/{help}/click"), None);
    let shown = b.wait_for("#help.open")[0].clone();
    assert!(b.text(&shown).contains("NEAR/2"));
}
