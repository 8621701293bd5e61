//! The ground-truth data model (docs/ground-truth.md) and its loading, checking and TREC
//! qrels import/export.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::locate::{line_col, spans, Spans};

pub use verity_core::{Priority, QueryType};

/// Version of the ground-truth file format.
pub const TRUTH_FORMAT_VERSION: u32 = 1;

/// An inclusive range for the number of returned files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    /// The fewest files.
    pub min: usize,
    /// No upper bound when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

impl CountRange {
    /// Whether `n` files are within the range.
    pub fn contains(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }
}

/// One validation case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroundTruthCase {
    /// Stable, unique identifier.
    pub id: String,
    /// The query, in the syntax of docs/query-language.md.
    pub query: String,
    /// The kind of query, which decides how the answer is judged: an exact file set, or a
    /// ranking (Vector, Hybrid, BM25).
    pub query_type: QueryType,
    /// The exact set of matching files (corpus-relative, `/`-separated). For ranked types, the
    /// relevant files.
    pub expected_files: Vec<String>,
    /// Bounds on the number of returned files, checked in addition to the exact set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_count: Option<CountRange>,
    /// Each string must occur in at least one reported matching line of every returned file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_contain: Vec<String>,
    /// No reported matching line of any returned file may contain any of these strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_not_contain: Vec<String>,
    /// Graded relevance per file (0 = not relevant), for ranked metrics.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub relevance: BTreeMap<String, u32>,
    /// Ranked types: the oracle's exact score of expected ids (cosine similarity of a Vector
    /// case's chunks, fused score of a Hybrid case's files), so that the validator can tell a
    /// wrong score from an approximation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: BTreeMap<String, f64>,
    /// Ranked types: the cut-off k of recall@k and nDCG@k (the query's own k); the
    /// validator's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Overrides the query type's default priority.
    /// Scheduling priority in the parallel run; the query type's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// The case fails if the search takes longer than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_latency_ms: Option<u64>,
    /// Free labels, for selecting cases (`--tag`) and grouping them in reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl GroundTruthCase {
    /// A case with only the required fields set.
    pub fn new(
        id: impl Into<String>,
        query: impl Into<String>,
        query_type: QueryType,
        expected_files: Vec<String>,
    ) -> Self {
        GroundTruthCase {
            id: id.into(),
            query: query.into(),
            query_type,
            expected_files,
            expected_count: None,
            must_contain: Vec::new(),
            must_not_contain: Vec::new(),
            relevance: BTreeMap::new(),
            scores: BTreeMap::new(),
            k: None,
            priority: None,
            max_latency_ms: None,
            tags: Vec::new(),
        }
    }

    /// Every judged file with its grade: expected files (grade from `relevance`, else 1) and
    /// files graded in `relevance` only, in that order.
    pub fn judgments(&self) -> Vec<(String, u32)> {
        let mut out: Vec<(String, u32)> = self
            .expected_files
            .iter()
            .map(|f| (f.clone(), self.relevance.get(f).copied().unwrap_or(1)))
            .collect();
        for (f, rel) in &self.relevance {
            if !self.expected_files.contains(f) {
                out.push((f.clone(), *rel));
            }
        }
        out
    }

    /// The case's priority, or its query type's default.
    pub fn priority(&self) -> Priority {
        self.priority
            .unwrap_or_else(|| self.query_type.default_priority())
    }
}

/// How a dataset was generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSettings {
    /// Generator name and version, e.g. `verity-truth-generator 1`.
    pub generator: String,
    /// The seed the cases were mined with.
    pub seed: u64,
    /// Number of cases asked for.
    pub cases: usize,
}

/// The vector settings a dataset's Vector and Hybrid cases were computed with. The index
/// under validation must use the same embedder and chunking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorSettings {
    /// The embedder's name, e.g. `hash-256` or `all-MiniLM-L6-v2`.
    pub embedder: String,
    /// Lines per chunk.
    pub chunk_lines: usize,
    /// Lines shared by consecutive chunks.
    pub chunk_overlap: usize,
}

/// A ground-truth file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroundTruthDataset {
    /// The version of the file format (this verity reads 1).
    pub format_version: u32,
    /// Fingerprint of the corpus the truth was computed for (`sha256:…`).
    pub corpus_fingerprint: String,
    /// How the cases were generated; absent for curated truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<GeneratorSettings>,
    /// The vector settings the Vector and Hybrid cases were computed with; `verity validate`
    /// refuses an index built with others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorSettings>,
    /// The cases, in file order.
    pub cases: Vec<GroundTruthCase>,
}

/// One problem in a ground-truth file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthProblem {
    /// The ground-truth file.
    pub file: PathBuf,
    /// 1-based line of the problem in the file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field, as a path such as `cases[3].expected_files[0]`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl TruthProblem {
    /// A problem with `field` at byte `offset` of the file's `text`.
    fn at(text: &str, file: &Path, offset: usize, field: String, message: String) -> Self {
        let (line, column) = line_col(text, offset);
        TruthProblem {
            file: file.to_path_buf(),
            line,
            column,
            field: Some(field),
            message,
        }
    }
}

impl fmt::Display for TruthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Everything wrong with a ground-truth file (never empty).
#[derive(Debug, Clone, thiserror::Error)]
pub struct TruthErrors(pub Vec<TruthProblem>);

impl fmt::Display for TruthErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} problem{} in ground truth:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Extracts the field a serde_json message names (`unknown field `x``, `missing field `x``).
fn field_of_serde_message(msg: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `", "unknown variant `"] {
        if let Some(rest) = msg.split(marker).nth(1) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

/// Every shape problem of a well-formed truth file: the top level's, then each case's on its
/// own (serde stops at the first), positioned at the field when it can be told, else the case.
fn shape_problems(value: &serde_json::Value, text: &str, file: &Path) -> Vec<TruthProblem> {
    let sp = spans(text);
    let mut out = Vec::new();
    let mut push = |offset: usize, field: String, message: String| {
        out.push(TruthProblem::at(text, file, offset, field, message));
    };
    // The field a serde message is about: named by it, or the one holding an unknown variant.
    let field_in = |obj: Option<&serde_json::Map<String, serde_json::Value>>, msg: &str| {
        let named = field_of_serde_message(msg)?;
        if !msg.contains("unknown variant `") {
            return Some(named);
        }
        obj?.iter()
            .find(|(_, v)| v.as_str() == Some(named.as_str()))
            .map(|(k, _)| k.clone())
    };
    let mut top = value.clone();
    if let Some(obj) = top.as_object_mut() {
        obj.insert("cases".into(), serde_json::Value::Array(Vec::new()));
    }
    if let Err(e) = serde_json::from_value::<GroundTruthDataset>(top) {
        let msg = e.to_string();
        let field = field_in(value.as_object(), &msg);
        let at = field
            .as_deref()
            .and_then(|f| sp.root_keys.get(f).copied())
            .unwrap_or(0);
        push(at, field.unwrap_or_default(), msg);
    }
    if let Some(cases) = value.get("cases").and_then(serde_json::Value::as_array) {
        for (i, c) in cases.iter().enumerate() {
            if let Err(e) = serde_json::from_value::<GroundTruthCase>(c.clone()) {
                let msg = e.to_string();
                let field = field_in(c.as_object(), &msg);
                let at = sp.offset(i, field.as_deref(), None);
                let name = match field {
                    Some(f) => format!("cases[{i}].{f}"),
                    None => format!("cases[{i}]"),
                };
                push(at, name, msg);
            }
        }
    }
    out
}

/// Is this a corpus-relative path in the required form?
fn path_problem(p: &str) -> Option<&'static str> {
    if p.is_empty() {
        Some("empty path")
    } else if p.starts_with('/') || p.as_bytes().get(1) == Some(&b':') {
        Some("absolute path; paths are relative to the corpus root")
    } else if p.contains('\\') {
        Some("backslash in path; use `/` separators")
    } else if p.split('/').any(|c| c == ".." || c == "." || c.is_empty()) {
        Some("path has an empty, `.` or `..` component")
    } else {
        None
    }
}

impl GroundTruthDataset {
    /// Reads and checks a ground-truth file.
    pub fn load(path: &Path) -> Result<GroundTruthDataset, TruthErrors> {
        let problem = |line, column, message: String| {
            TruthErrors(vec![TruthProblem {
                file: path.to_path_buf(),
                line,
                column,
                field: None,
                message,
            }])
        };
        let bytes = std::fs::read(path).map_err(|e| problem(0, 0, e.to_string()))?;
        // Editors on some systems start UTF-8 files with a byte order mark; JSON has none.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            let start = bytes[..at]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&bytes[start..at]).chars().count() + 1;
            problem(line, column, "not UTF-8".into())
        })?;
        Self::parse(text, path)
    }

    /// Parses and checks ground truth from text; `file` names it in problems.
    pub fn parse(text: &str, file: &Path) -> Result<GroundTruthDataset, TruthErrors> {
        let ds: GroundTruthDataset = serde_json::from_str(text).map_err(|e| {
            // Well-formed JSON of the wrong shape: every case's problems, not only the first
            // one serde stops at.
            if e.is_data() {
                if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
                    let all = shape_problems(&value, text, file);
                    if !all.is_empty() {
                        return TruthErrors(all);
                    }
                }
            }
            let msg = e.to_string();
            // serde_json appends " at line L column C"; the position has its own fields.
            let message = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m)
                .to_owned();
            TruthErrors(vec![TruthProblem {
                file: file.to_path_buf(),
                line: e.line(),
                column: e.column(),
                field: field_of_serde_message(&message),
                message,
            }])
        })?;
        let problems = ds.check(text, file);
        if problems.is_empty() {
            Ok(ds)
        } else {
            Err(TruthErrors(problems))
        }
    }

    /// Semantic checks; every problem is reported, with its position in `text`.
    fn check(&self, text: &str, file: &Path) -> Vec<TruthProblem> {
        let sp: Spans = spans(text);
        let mut out = Vec::new();
        let mut push = |offset: usize, field: String, message: String| {
            out.push(TruthProblem::at(text, file, offset, field, message));
        };
        if self.format_version != TRUTH_FORMAT_VERSION {
            push(
                sp.root_keys.get("format_version").copied().unwrap_or(0),
                "format_version".into(),
                format!(
                    "format version {} is not supported (expected {TRUTH_FORMAT_VERSION})",
                    self.format_version
                ),
            );
        }
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.cases.iter().enumerate() {
            let at = |field: &str, elem: Option<usize>| sp.offset(i, Some(field), elem);
            if c.id.trim().is_empty() {
                push(at("id", None), format!("cases[{i}].id"), "empty id".into());
            } else if c.id.chars().any(char::is_whitespace) {
                // Ids are TREC query ids in run and qrels files, which are whitespace-separated.
                push(
                    at("id", None),
                    format!("cases[{i}].id"),
                    format!("id `{}` contains whitespace", c.id),
                );
            } else if let Some(first) = ids.insert(c.id.as_str(), i) {
                push(
                    at("id", None),
                    format!("cases[{i}].id"),
                    format!("duplicate id `{}` (first used by cases[{first}])", c.id),
                );
            }
            if c.query.is_empty() {
                push(
                    at("query", None),
                    format!("cases[{i}].query"),
                    "empty query".into(),
                );
            } else if let Err(e) = verity_oracle::read_request(&c.query) {
                // A query no engine may accept is a mistake in the truth, not a wrong answer:
                // checked with the oracle's own reading of the query language.
                push(
                    at("query", None),
                    format!("cases[{i}].query"),
                    format!(
                        "`{}` is not a valid query: column {}: {}",
                        c.query, e.column, e.reason
                    ),
                );
            }
            let mut seen = HashSet::new();
            for (j, p) in c.expected_files.iter().enumerate() {
                let field = format!("cases[{i}].expected_files[{j}]");
                if let Some(problem) = path_problem(p) {
                    push(
                        at("expected_files", Some(j)),
                        field,
                        format!("`{p}`: {problem}"),
                    );
                } else if !seen.insert(p.as_str()) {
                    push(
                        at("expected_files", Some(j)),
                        field,
                        format!("`{p}` is listed twice"),
                    );
                }
            }
            for (j, (p, grade)) in c.relevance.iter().enumerate() {
                let field = format!("cases[{i}].relevance.{p}");
                if let Some(problem) = path_problem(p) {
                    push(at("relevance", Some(j)), field, format!("`{p}`: {problem}"));
                } else if *grade > 0 && !seen.contains(p.as_str()) {
                    push(
                        at("relevance", Some(j)),
                        field,
                        format!("`{p}` has relevance {grade} but is not in expected_files"),
                    );
                }
            }
            for (j, p) in c.scores.keys().enumerate() {
                if !seen.contains(p.as_str()) {
                    push(
                        at("scores", Some(j)),
                        format!("cases[{i}].scores.{p}"),
                        format!("`{p}` has a score but is not in expected_files"),
                    );
                }
            }
            for (j, s) in c.must_contain.iter().enumerate() {
                if c.must_not_contain.contains(s) {
                    push(
                        at("must_contain", Some(j)),
                        format!("cases[{i}].must_contain[{j}]"),
                        format!("`{s}` is both in must_contain and must_not_contain"),
                    );
                }
                if s.is_empty() {
                    push(
                        at("must_contain", Some(j)),
                        format!("cases[{i}].must_contain[{j}]"),
                        "empty string".into(),
                    );
                }
            }
            if let Some(r) = c.expected_count {
                let field = format!("cases[{i}].expected_count");
                if r.max.is_some_and(|m| m < r.min) {
                    push(
                        at("expected_count", None),
                        field,
                        format!("min {} is greater than max {}", r.min, r.max.unwrap_or(0)),
                    );
                } else if !c.query_type.is_ranked() && !r.contains(c.expected_files.len()) {
                    push(
                        at("expected_count", None),
                        field,
                        format!(
                            "{} expected files is outside the expected count range",
                            c.expected_files.len()
                        ),
                    );
                }
            }
            if c.k == Some(0) {
                push(
                    at("k", None),
                    format!("cases[{i}].k"),
                    "must be at least 1".into(),
                );
            }
            if c.max_latency_ms == Some(0) {
                push(
                    at("max_latency_ms", None),
                    format!("cases[{i}].max_latency_ms"),
                    "must be at least 1".into(),
                );
            }
        }
        out
    }

    /// Writes the dataset as pretty JSON, atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).expect("dataset serializes");
        // Not a regular file (`-o /dev/stdout`, a pipe): written in place. Renaming over it
        // would replace the device with a file. A link to a file: the file is replaced, the
        // link kept.
        let resolved = std::fs::canonicalize(path).ok();
        if let Some(target) = &resolved {
            if !std::fs::metadata(target)?.is_file() {
                let mut f = std::fs::OpenOptions::new().write(true).open(target)?;
                return std::io::Write::write_all(&mut f, (json + "\n").as_bytes());
            }
        }
        let path = resolved.as_deref().unwrap_or(path);
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut f, (json + "\n").as_bytes())?;
        // Synced before the rename, and the rename synced after: a crash leaves the old file
        // or the new one, whole.
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The truth as TREC qrels: `ID 0 DOCID RELEVANCE` for every judged file (see
    /// [`trec_docid`]).
    pub fn to_qrels(&self) -> String {
        let mut out = String::new();
        for c in &self.cases {
            for (f, rel) in c.judgments() {
                out.push_str(&format!("{} 0 {} {}\n", c.id, trec_docid(&f), rel));
            }
        }
        out
    }

    /// A fingerprint of the cases: `sha256:` + hex over their canonical JSON. Reports of
    /// partitions of one run carry the same fingerprint; `verity report merge` checks it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(&self.cases).expect("cases serialize");
        let digest = Sha256::digest(&json);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// Builds a dataset from TREC qrels and a topics file (`ID<TAB>QUERY_TYPE<TAB>QUERY` lines).
    /// Files with relevance above 0 are the expected files; grades are kept. Topics without
    /// judged files become cases that expect no files.
    pub fn from_qrels(
        qrels: &str,
        qrels_name: &Path,
        topics: &str,
        topics_name: &Path,
        corpus_fingerprint: String,
    ) -> Result<GroundTruthDataset, TruthErrors> {
        let mut problems = Vec::new();
        let mut problem = |file: &Path, line: usize, message: String| {
            problems.push(TruthProblem {
                file: file.to_path_buf(),
                line,
                column: 1,
                field: None,
                message,
            })
        };
        let mut judged: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
        for (n, line) in qrels.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 4 {
                problem(
                    qrels_name,
                    n + 1,
                    format!("expected 4 fields (ID ITER DOC REL), found {}", f.len()),
                );
                continue;
            }
            let Ok(rel) = f[3].parse::<i64>() else {
                problem(
                    qrels_name,
                    n + 1,
                    format!("relevance `{}` is not an integer", f[3]),
                );
                continue;
            };
            judged
                .entry(f[0].to_owned())
                .or_default()
                .insert(from_trec_docid(f[2]), rel.max(0) as u32);
        }
        let mut cases = Vec::new();
        for (n, line) in topics.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, '\t');
            let (Some(id), Some(ty), Some(query)) = (parts.next(), parts.next(), parts.next())
            else {
                problem(
                    topics_name,
                    n + 1,
                    "expected ID<TAB>QUERY_TYPE<TAB>QUERY".into(),
                );
                continue;
            };
            let Ok(query_type) =
                serde_json::from_value::<QueryType>(serde_json::Value::String(ty.into()))
            else {
                problem(topics_name, n + 1, format!("unknown query type `{ty}`"));
                continue;
            };
            let rels = judged.remove(id).unwrap_or_default();
            let mut case = GroundTruthCase::new(
                id,
                query,
                query_type,
                rels.iter()
                    .filter(|(_, r)| **r > 0)
                    .map(|(p, _)| p.clone())
                    .collect(),
            );
            if rels.values().any(|r| *r > 1) || query_type.is_ranked() {
                case.relevance = rels;
            }
            cases.push(case);
        }
        for id in judged.keys() {
            problem(
                qrels_name,
                0,
                format!("query `{id}` is judged in the qrels but has no topic"),
            );
        }
        if !problems.is_empty() {
            return Err(TruthErrors(problems));
        }
        let ds = GroundTruthDataset {
            format_version: TRUTH_FORMAT_VERSION,
            corpus_fingerprint,
            generator: None,
            vectors: None,
            cases,
        };
        let text = serde_json::to_string_pretty(&ds).expect("serializes");
        let problems = ds.check(&text, qrels_name);
        if problems.is_empty() {
            Ok(ds)
        } else {
            Err(TruthErrors(problems))
        }
    }
}

/// A corpus path as a TREC document id. TREC files are whitespace-separated, so `%` and
/// whitespace are percent-encoded (`a b.rs` becomes `a%20b.rs`); other paths are unchanged.
pub fn trec_docid(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.chars().any(|c| c == '%' || c.is_whitespace()) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if c == '%' || c.is_whitespace() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The inverse of [`trec_docid`]. Sequences that are not valid `%XX` escapes stay as written.
pub fn from_trec_docid(id: &str) -> String {
    if !id.contains('%') {
        return id.to_owned();
    }
    let bytes = id.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| id.to_owned())
}

/// The JSON Schema of ground-truth files, generated from the types.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(GroundTruthDataset);
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

#[cfg(test)]
mod docid_tests {
    use super::*;

    #[test]
    fn trec_docids_round_trip() {
        assert_eq!(trec_docid("src/lib.rs"), "src/lib.rs");
        assert_eq!(trec_docid("my dir/a\tb%.rs"), "my%20dir/a%09b%25.rs");
        for p in ["src/lib.rs", "my dir/a\tb%.rs", "100%", "%zz", "x\u{3000}y"] {
            assert_eq!(from_trec_docid(&trec_docid(p)), p, "{p:?}");
        }
        // Not an escape: kept as written.
        assert_eq!(from_trec_docid("a%zz%4"), "a%zz%4");
    }
}
