//! A large synthetic source tree for scale tests (`verity corpus synth`), when no
//! 100,000-file tree is at hand.
//!
//! The tree looks like a Rust workspace: crates of 48 modules, each crate with a Cargo.toml and a
//! README.md. Modules are real-looking Rust — structs with `#[derive(...)]`, generic types such
//! as `Result<T, E>` and `HashMap<String, Vec<u32>>`, `impl` blocks with `&mut self`, paths with
//! `::`, error enums, doc comments, tests named `test_*_validation` — built from templates and a
//! vocabulary, so queries of every type find realistic, varied answers. Every file depends only
//! on the seed and its index, so the tree is the same whatever the number of threads.

use std::fmt::Write as _;
use std::path::Path;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const WORDS: &[&str] = &[
    "index", "query", "token", "buffer", "cache", "config", "parser", "reader", "writer", "schema",
    "segment", "record", "entry", "handle", "session", "request", "response", "stream", "batch",
    "cursor", "filter", "matcher", "planner", "router", "worker", "channel", "signal", "metric",
    "report", "snapshot", "journal", "ledger", "registry", "store", "block", "page", "frame",
    "packet", "codec", "digest", "hash", "key", "value", "field", "column", "row", "table",
    "shard", "replica", "lease", "lock", "queue", "task", "job", "timer", "clock", "deadline",
    "budget", "limit", "quota", "policy", "rule", "pattern", "symbol", "scope", "module", "crate",
    "span", "range", "offset", "position", "line", "column", "path", "file", "dir", "walker",
];

const VERBS: &[&str] = &[
    "load", "store", "parse", "render", "flush", "merge", "split", "scan", "seek", "apply",
    "build", "check", "resolve", "insert", "remove", "update", "collect", "encode", "decode",
    "validate", "compile", "execute", "dispatch", "schedule", "refresh", "compact", "open",
];

const DERIVES: &[&str] = &[
    "#[derive(Debug)]",
    "#[derive(Debug, Clone)]",
    "#[derive(Debug, Clone, PartialEq)]",
    "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]",
    "#[derive(Debug, Default, Serialize, Deserialize)]",
];

const FIELD_TYPES: &[&str] = &[
    "Vec<u8>",
    "HashMap<String, Vec<u32>>",
    "Option<Box<dyn Fn(&str) -> bool + Send>>",
    "Arc<Mutex<VecDeque<u64>>>",
    "BTreeMap<u32, (usize, usize)>",
    "Result<String, std::io::Error>",
    "&'static str",
    "[u8; 32]",
    "std::path::PathBuf",
    "Vec<Option<Rc<RefCell<Node>>>>",
];

fn camel(a: &str, b: &str) -> String {
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    cap(a) + &cap(b)
}

fn pick<'a>(rng: &mut ChaCha8Rng, v: &[&'a str]) -> &'a str {
    v.choose(rng).copied().unwrap_or("x")
}

fn rust_module(rng: &mut ChaCha8Rng, krate: &str) -> String {
    let mut s = String::new();
    let (w1, w2) = (pick(rng, WORDS), pick(rng, WORDS));
    let ty = camel(w1, w2);
    let other = camel(pick(rng, WORDS), pick(rng, WORDS));
    let _ = writeln!(
        s,
        "//! The {w1} {w2}: {} and {} of {} {}s.",
        pick(rng, VERBS),
        pick(rng, VERBS),
        w1,
        pick(rng, WORDS)
    );
    s.push('\n');
    s.push_str("use std::collections::{BTreeMap, HashMap, VecDeque};\n");
    s.push_str("use std::sync::{Arc, Mutex};\n");
    if rng.random_bool(0.5) {
        let _ = writeln!(
            s,
            "use crate::{}::{{{other}, {}Error}};",
            pick(rng, WORDS),
            other
        );
    }
    if rng.random_bool(0.3) {
        let _ = writeln!(s, "use {krate}::prelude::*;");
    }
    s.push('\n');
    for _ in 0..rng.random_range(1..4) {
        let sname = camel(pick(rng, WORDS), pick(rng, WORDS));
        let _ = writeln!(
            s,
            "/// A {} {} kept by [`{ty}`].",
            pick(rng, WORDS),
            pick(rng, WORDS)
        );
        let _ = writeln!(s, "{}", pick(rng, DERIVES));
        let _ = writeln!(s, "pub struct {sname} {{");
        for _ in 0..rng.random_range(2..6) {
            let vis = if rng.random_bool(0.5) { "pub " } else { "" };
            let _ = writeln!(
                s,
                "    {vis}{}_{}: {},",
                pick(rng, WORDS),
                pick(rng, WORDS),
                pick(rng, FIELD_TYPES)
            );
        }
        s.push_str("}\n\n");
    }
    let _ = writeln!(
        s,
        "#[derive(Debug, thiserror::Error)]\npub enum {ty}Error {{"
    );
    let _ = writeln!(
        s,
        "    #[error(\"{} failed: {{0}}\")]\n    Io(#[from] std::io::Error),",
        pick(rng, VERBS)
    );
    let _ = writeln!(s, "    #[error(\"invalid {} at line {{line}}, column {{column}}\")]\n    Invalid {{ line: usize, column: usize }},", pick(rng, WORDS));
    s.push_str("}\n\n");
    let _ = writeln!(s, "pub struct {ty} {{\n    items: HashMap<String, Vec<u32>>,\n    pending: VecDeque<u64>,\n    shared: Arc<Mutex<Option<{other}>>>,\n}}\n");
    let _ = writeln!(s, "impl {ty} {{");
    let _ = writeln!(s, "    pub fn new() -> Result<Self, {ty}Error> {{\n        Ok(Self {{ items: HashMap::new(), pending: VecDeque::new(), shared: Arc::new(Mutex::new(None)) }})\n    }}\n");
    for _ in 0..rng.random_range(2..7) {
        let verb = pick(rng, VERBS);
        let noun = pick(rng, WORDS);
        match rng.random_range(0..4) {
            0 => {
                let _ = writeln!(s, "    /// {} the {noun} under `key`.\n    pub fn {verb}_{noun}(&mut self, key: &str) -> Option<&mut Vec<u32>> {{\n        self.items.get_mut(key)\n    }}\n", verb);
            }
            1 => {
                let _ = writeln!(s, "    pub fn {verb}_{noun}s(&self) -> impl Iterator<Item = (&String, &Vec<u32>)> + '_ {{\n        self.items.iter().filter(|(k, v)| !k.is_empty() && v.len() > {})\n    }}\n", rng.random_range(0..9));
            }
            2 => {
                let _ = writeln!(s, "    fn {verb}(&mut self, n: u64) -> Result<usize, {ty}Error> {{\n        self.pending.push_back(n << {});\n        if self.pending.len() >= {} {{\n            return Err({ty}Error::Invalid {{ line: {}, column: {} }});\n        }}\n        Ok(self.pending.len())\n    }}\n", rng.random_range(1..8), rng.random_range(8..4096), rng.random_range(1..900), rng.random_range(1..80));
            }
            _ => {
                let _ = writeln!(s, "    pub async fn {verb}_{noun}_async(self: Arc<Self>) -> std::io::Result<()> {{\n        let guard = self.shared.lock().map_err(|_| std::io::Error::other(\"poisoned\"))?;\n        let _ = guard.as_ref().map(|x| x as *const _);\n        Ok(())\n    }}\n");
            }
        }
    }
    s.push_str("}\n\n");
    let _ = writeln!(s, "impl std::fmt::Display for {ty} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        write!(f, \"{ty}({{}} items)\", self.items.len())\n    }}\n}}\n");
    if rng.random_bool(0.6) {
        let noun = pick(rng, WORDS);
        let _ = writeln!(s, "#[cfg(test)]\nmod tests {{\n    use super::*;\n\n    #[test]\n    fn test_{noun}_validation() {{\n        let mut x = {ty}::new().unwrap();\n        assert!(x.items.is_empty());\n        assert_eq!(format!(\"{{x}}\"), \"{ty}(0 items)\");\n    }}\n}}");
    }
    s
}

fn cargo_toml(rng: &mut ChaCha8Rng, krate: &str) -> String {
    let mut s = format!(
        "[package]\nname = \"{krate}\"\nversion = \"0.{}.{}\"\nedition = \"2021\"\ndescription = \"The {} {} of the workspace.\"\n\n[dependencies]\n",
        rng.random_range(1..20),
        rng.random_range(0..10),
        pick(rng, WORDS),
        pick(rng, WORDS)
    );
    for dep in ["serde", "thiserror", "tokio", "regex", "rayon", "anyhow"] {
        if rng.random_bool(0.5) {
            let _ = writeln!(
                s,
                "{dep} = {{ version = \"1.{}\", features = [\"{}\"] }}",
                rng.random_range(0..40),
                pick(rng, WORDS)
            );
        }
    }
    if rng.random_bool(0.3) {
        s.push_str("\n[workspace]\nmembers = [\"crates/*\"]\n");
    }
    let _ = writeln!(
        s,
        "\n[features]\ndefault = [\"{}\"]\n{} = []",
        pick(rng, WORDS),
        pick(rng, WORDS)
    );
    s
}

fn readme(rng: &mut ChaCha8Rng, krate: &str) -> String {
    let (a, b) = (pick(rng, WORDS), pick(rng, WORDS));
    let ty = camel(a, b);
    let ident = krate.replace('-', "_");
    format!(
        "# {krate}\n\nThe `{ty}` {} {}s and returns `Result<{ty}, {ty}Error>`.\n\n## Usage\n\n```rust\nuse {ident}::{ty};\n\nlet mut x = {ty}::new()?;\nx.{}_{}(\"key\");\n```\n\n- [x] {} support\n- [ ] `&mut self` {} API\n\nSee [the docs](https://docs.example/{krate}) for `HashMap<String, Vec<u32>>` layouts.\n",
        pick(rng, VERBS),
        pick(rng, WORDS),
        pick(rng, VERBS),
        pick(rng, WORDS),
        pick(rng, WORDS),
        pick(rng, WORDS),
    )
}

/// Files per crate directory (48 modules, Cargo.toml, README.md).
const PER_CRATE: usize = 50;

/// The relative path and text of file `i` of a tree made with `seed`.
pub fn file(seed: u64, i: usize) -> (String, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let krate_no = i / PER_CRATE;
    let mut crate_rng =
        ChaCha8Rng::seed_from_u64(seed ^ (krate_no as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let krate = format!(
        "{}-{}-{krate_no}",
        pick(&mut crate_rng, WORDS),
        pick(&mut crate_rng, WORDS)
    );
    match i % PER_CRATE {
        0 => (
            format!("crates/{krate}/Cargo.toml"),
            cargo_toml(&mut rng, &krate),
        ),
        1 => (
            format!("crates/{krate}/README.md"),
            readme(&mut rng, &krate),
        ),
        m => (
            format!("crates/{krate}/src/{}_{m}.rs", pick(&mut rng, WORDS)),
            rust_module(&mut rng, &krate.replace('-', "_")),
        ),
    }
}

/// Writes `files` files under `dir`; returns the bytes written.
pub fn write_tree(dir: &Path, files: usize, seed: u64) -> std::io::Result<u64> {
    (0..files)
        .into_par_iter()
        .map(|i| {
            let (rel, text) = file(seed, i);
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &text)?;
            Ok(text.len() as u64)
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_deterministic_distinct_and_full_of_special_characters() {
        assert_eq!(file(7, 123), file(7, 123));
        assert_ne!(file(7, 123).1, file(8, 123).1);
        let paths: std::collections::HashSet<String> = (0..500).map(|i| file(1, i).0).collect();
        assert_eq!(paths.len(), 500, "paths are unique");
        let all: String = (0..200).map(|i| file(1, i).1).collect();
        for needle in [
            "Result<",
            "#[derive(Debug",
            "&mut self",
            "::",
            "HashMap<String, Vec<u32>>",
            "[package]",
            "```rust",
            "fn test_",
        ] {
            assert!(all.contains(needle), "{needle}");
        }
    }
}
