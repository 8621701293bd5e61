//! Building, updating and opening a Verity index.
//!
//! An index is a directory holding a tantivy index and `verity.json` (format version, corpus
//! root, walk settings). Updates are incremental: files whose size and modification time are
//! unchanged are not read again; changed files are replaced and vanished files deleted. All
//! changes become visible in one tantivy commit at the end, so an interrupted run leaves the
//! previous index as it was.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::error::EngineError;
use crate::schema::{build_schema, register_tokenizers, Fields, PATH_FIELD};
use crate::text::{decode, Undecodable};
use crate::vector_state::{VectorSlot, VectorState, VECTOR_DIR};
use crate::walk::{walk, SkipReason, Skipped, WalkOptions};
use verity_vector::embed::Embedder;
use verity_vector::mode::VectorSearch;
use verity_vector::store::{FileVectors, VectorConfig, VectorIndex};

/// Version of the on-disk format (schema, tokenizers, text rules). Bump on any change that
/// makes an old index answer differently.
pub const FORMAT_VERSION: u32 = 1;

const META_FILE: &str = "verity.json";

/// Contents of `verity.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexMeta {
    pub format_version: u32,
    pub engine_version: String,
    /// Absolute path of the corpus root when last indexed.
    pub root: String,
    pub walk: WalkOptions,
    /// Settings of the vector index in `vectors/`; none when the index has no vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorConfig>,
}

/// Settings for [`CodeIndex::build`].
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub walk: WalkOptions,
    /// Discard an existing index (of any format version) and build from scratch.
    pub rebuild: bool,
    /// Indexing threads (tantivy writer threads).
    pub threads: usize,
    /// Memory budget per indexing thread, in bytes.
    pub memory_per_thread: usize,
    /// Build a vector index (chunks, embeddings, HNSW) with these settings; `None` for a
    /// text-only index. An update re-embeds only the files whose content changed.
    pub vectors: Option<VectorConfig>,
    /// How vector searches find chunks unless a search says otherwise (kept with the vectors).
    pub vector_search: VectorSearch,
    /// Called as files are embedded, with (files done, files in all).
    pub progress: Option<ProgressHook>,
}

/// A callback for build progress: (done, total).
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            walk: WalkOptions::default(),
            rebuild: false,
            threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4),
            memory_per_thread: 128 * 1024 * 1024,
            vectors: Some(VectorConfig::default()),
            vector_search: VectorSearch::default(),
            progress: None,
        }
    }
}

/// What an index build or update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// Files in the index after the run.
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Files decoded with U+FFFD replacements (indexed all the same).
    pub lossy: Vec<String>,
    /// Files not indexed, with the reason.
    pub skipped: Vec<Skipped>,
    /// Bytes of the files read and indexed in this run.
    pub bytes_indexed: u64,
    /// Chunks in the vector index (0 without vectors).
    pub chunks: usize,
    /// Files whose chunks were embedded in this run (the others' vectors were reused).
    pub embedded_files: usize,
    #[serde(serialize_with = "ser_duration_ms")]
    pub elapsed: Duration,
}

impl BuildReport {
    /// How many files were skipped for each reason.
    pub fn skipped_by_reason(&self) -> std::collections::BTreeMap<SkipReason, usize> {
        let mut m = std::collections::BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason).or_insert(0) += 1;
        }
        m
    }
}

fn ser_duration_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// An open index, ready to search.
pub struct CodeIndex {
    pub(crate) dir: PathBuf,
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    pub(crate) meta: IndexMeta,
    pub(crate) vectors: VectorSlot,
    /// Every document's rank in path order, for the searcher generation it was computed for.
    pub(crate) path_ranks: crate::rank_cache::RankCache,
}

/// Per-file state remembered by the index, for change detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub mtime_ns: u64,
    pub size: u64,
    pub hash: u64,
}

fn read_meta(dir: &Path) -> Result<Option<IndexMeta>, EngineError> {
    let path = dir.join(META_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::Io { path, source: e }),
    };
    // Read the version first, so an index of another version is reported as such even when
    // the rest of its meta has another shape.
    #[derive(Deserialize)]
    struct Version {
        format_version: u32,
    }
    let corrupt = |e: serde_json::Error| EngineError::IndexCorrupt {
        path: path.clone(),
        detail: format!("line {}, column {}: {e}", e.line(), e.column()),
    };
    let v: Version = serde_json::from_slice(&bytes).map_err(corrupt)?;
    if v.format_version != FORMAT_VERSION {
        return Err(EngineError::IndexVersion {
            path: dir.to_path_buf(),
            found: v.format_version,
            expected: FORMAT_VERSION,
        });
    }
    serde_json::from_slice(&bytes).map(Some).map_err(corrupt)
}

fn write_meta(dir: &Path, meta: &IndexMeta) -> Result<(), EngineError> {
    let path = dir.join(META_FILE);
    let tmp = dir.join(format!("{META_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(meta).expect("meta serializes");
    std::fs::write(&tmp, json).map_err(|e| EngineError::Io {
        path: tmp.clone(),
        source: e,
    })?;
    std::fs::rename(&tmp, &path).map_err(|e| EngineError::Io { path, source: e })
}

fn vector_err(e: impl Into<crate::error::VectorUnavailable>) -> EngineError {
    EngineError::Vector(e.into())
}

/// Counts finished files for the build's progress hook.
struct Ticker<'a> {
    done: AtomicUsize,
    total: usize,
    hook: Option<&'a ProgressHook>,
}

impl<'a> Ticker<'a> {
    fn new(total: usize, hook: Option<&'a ProgressHook>) -> Self {
        Ticker {
            done: AtomicUsize::new(0),
            total,
            hook,
        }
    }

    fn tick(&self) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(h) = self.hook {
            (h.0)(n, self.total);
        }
    }
}

impl CodeIndex {
    /// Opens an existing index.
    pub fn open(dir: &Path) -> Result<CodeIndex, EngineError> {
        if !dir.exists() {
            return Err(EngineError::IndexMissing(dir.to_path_buf()));
        }
        if !dir.is_dir() {
            return Err(EngineError::NotADirectory(dir.to_path_buf()));
        }
        let meta = read_meta(dir)?.ok_or_else(|| {
            if dir.join("meta.json").exists() {
                EngineError::IndexCorrupt {
                    path: dir.to_path_buf(),
                    detail: format!("{META_FILE} is missing"),
                }
            } else {
                EngineError::IndexMissing(dir.to_path_buf())
            }
        })?;
        let index = Index::open_in_dir(dir).map_err(|e| EngineError::IndexCorrupt {
            path: dir.to_path_buf(),
            detail: e.to_string(),
        })?;
        Self::from_parts(dir, index, meta)
    }

    fn from_parts(dir: &Path, index: Index, meta: IndexMeta) -> Result<CodeIndex, EngineError> {
        let (expected, fields) = build_schema();
        if index.schema() != expected {
            return Err(EngineError::IndexCorrupt {
                path: dir.to_path_buf(),
                detail: "schema does not match this engine's".into(),
            });
        }
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| EngineError::IndexCorrupt {
                path: dir.to_path_buf(),
                detail: e.to_string(),
            })?;
        // Read on first use: a text query never touches `vectors/`.
        let vectors = VectorSlot::unopened(dir, meta.vectors.is_some());
        Ok(CodeIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            meta,
            vectors,
            path_ranks: Default::default(),
        })
    }

    /// Builds the index for `root` in `dir`, or brings an existing one up to date.
    pub fn build(
        root: &Path,
        dir: &Path,
        opts: &BuildOptions,
    ) -> Result<(CodeIndex, BuildReport), EngineError> {
        if dir.exists() && !dir.is_dir() {
            return Err(EngineError::NotADirectory(dir.to_path_buf()));
        }
        let started = Instant::now();
        let root_abs = root.canonicalize().map_err(|e| EngineError::Corpus {
            path: root.to_path_buf(),
            source: e,
        })?;
        if !root_abs.is_dir() {
            return Err(EngineError::Corpus {
                path: root.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
            });
        }
        std::fs::read_dir(&root_abs).map_err(|e| EngineError::Corpus {
            path: root.to_path_buf(),
            source: e,
        })?;

        let index = Self::open_or_create(dir, opts.rebuild)?;
        let (_, fields) = build_schema();
        register_tokenizers(&index);
        // The writer's lock comes before any state is read: two `verity index` runs on one
        // index take turns, and the second reads the stamps the first committed (read before
        // the lock, they listed every file the first one changed as changed again, and both
        // added it: two documents for one path, issue #19).
        let mut writer = Self::writer(&index, opts)?;
        let existing = Self::stamps_of(&index)?;

        let walked = walk(&root_abs, &opts.walk, Some(dir));
        let mut report = BuildReport {
            skipped: walked.skipped.clone(),
            ..BuildReport::default()
        };
        let path_term = |p: &str| Term::from_field_text(fields.path, p);

        let mut seen = std::collections::HashSet::with_capacity(walked.files.len());
        let mut to_read = Vec::new();
        for f in &walked.files {
            seen.insert(f.rel.as_str());
            match existing.get(&f.rel) {
                Some(s) if s.mtime_ns == f.mtime_ns && s.size == f.size => report.unchanged += 1,
                Some(_) => {
                    writer.delete_term(path_term(&f.rel));
                    to_read.push((f, true));
                }
                None => to_read.push((f, false)),
            }
        }
        for path in existing.keys() {
            if !seen.contains(path.as_str()) {
                writer.delete_term(path_term(path));
                report.deleted += 1;
            }
        }

        enum Outcome {
            Added {
                existed: bool,
                bytes: u64,
                lossy: bool,
            },
            Skipped(Skipped),
        }
        let outcomes: Vec<(String, Outcome)> = to_read
            .par_iter()
            .map(|(f, existed)| {
                let outcome = match std::fs::read(&f.abs) {
                    Err(e) => Outcome::Skipped(Skipped {
                        path: f.rel.clone(),
                        reason: SkipReason::Unreadable,
                        detail: Some(e.to_string()),
                    }),
                    Ok(bytes) if bytes.len() as u64 > opts.walk.max_file_size => {
                        Outcome::Skipped(Skipped {
                            path: f.rel.clone(),
                            reason: SkipReason::TooLarge,
                            detail: Some(format!("{} bytes", bytes.len())),
                        })
                    }
                    Ok(bytes) => match decode(&bytes) {
                        Err(Undecodable::Binary) => Outcome::Skipped(Skipped {
                            path: f.rel.clone(),
                            reason: SkipReason::Binary,
                            detail: None,
                        }),
                        Ok(decoded) => {
                            let hash = xxhash_rust::xxh3::xxh3_64(&bytes);
                            let res = writer.add_document(doc!(
                                fields.path => f.rel.as_str(),
                                fields.content => decoded.text.as_str(),
                                fields.code => decoded.text.as_str(),
                                fields.trigram => decoded.text.as_str(),
                                fields.mtime => f.mtime_ns,
                                fields.size => f.size,
                                fields.hash => hash,
                            ));
                            match res {
                                Ok(_) => Outcome::Added {
                                    existed: *existed,
                                    bytes: bytes.len() as u64,
                                    lossy: decoded.lossy,
                                },
                                Err(e) => Outcome::Skipped(Skipped {
                                    path: f.rel.clone(),
                                    reason: SkipReason::Unreadable,
                                    detail: Some(format!("index error: {e}")),
                                }),
                            }
                        }
                    },
                };
                (f.rel.clone(), outcome)
            })
            .collect();

        for (path, outcome) in outcomes {
            match outcome {
                Outcome::Added {
                    existed,
                    bytes,
                    lossy,
                } => {
                    if existed {
                        report.updated += 1;
                    } else {
                        report.added += 1;
                    }
                    report.bytes_indexed += bytes;
                    if lossy {
                        report.lossy.push(path);
                    }
                }
                Outcome::Skipped(s) => {
                    // A file that was indexed and is now skipped is gone from the index.
                    if existing.contains_key(&path) {
                        report.deleted += 1;
                    }
                    report.skipped.push(s);
                }
            }
        }
        report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        report.lossy.sort();

        let mut meta = IndexMeta {
            format_version: FORMAT_VERSION,
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            root: root_abs.to_string_lossy().into_owned(),
            walk: opts.walk.clone(),
            vectors: None,
        };
        writer.commit()?;
        // The writer (and its lock) lives until the vectors are written too: a second build
        // waits for the whole of this one, text and vectors, not only for its text.
        // The meta names vectors only once they are written: an interrupted vector build
        // leaves a text index that says it has none.
        write_meta(dir, &meta)?;

        let mut code_index = Self::from_parts(dir, index, meta.clone())?;
        let vdir = dir.join(VECTOR_DIR);
        match &opts.vectors {
            Some(config) => {
                let (state, embedded) =
                    code_index.build_vectors(config, opts.vector_search, opts.progress.as_ref())?;
                report.chunks = state.index.len();
                report.embedded_files = embedded;
                meta.vectors = Some(config.clone());
                write_meta(dir, &meta)?;
                code_index.meta = meta;
                code_index.vectors = VectorSlot::with(dir, state);
            }
            None if vdir.exists() => {
                std::fs::remove_dir_all(&vdir).map_err(|e| EngineError::Io {
                    path: vdir.clone(),
                    source: e,
                })?;
            }
            None => {}
        }
        writer.wait_merging_threads()?;
        report.files = code_index.num_files();
        report.elapsed = started.elapsed();
        Ok((code_index, report))
    }

    fn open_or_create(dir: &Path, rebuild: bool) -> Result<Index, EngineError> {
        let io = |e: std::io::Error| EngineError::Io {
            path: dir.to_path_buf(),
            source: e,
        };
        let (schema, _) = build_schema();
        let is_ours = dir.join(META_FILE).exists();
        let non_empty = dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some();
        if non_empty && !is_ours {
            return Err(EngineError::NotAnIndex(dir.to_path_buf()));
        }
        if rebuild && is_ours {
            std::fs::remove_dir_all(dir).map_err(io)?;
        } else if is_ours {
            read_meta(dir)?; // version check
            let index = Index::open_in_dir(dir).map_err(|e| EngineError::IndexCorrupt {
                path: dir.to_path_buf(),
                detail: e.to_string(),
            })?;
            if index.schema() != schema {
                return Err(EngineError::IndexCorrupt {
                    path: dir.to_path_buf(),
                    detail: "schema does not match this engine's (use --rebuild)".into(),
                });
            }
            return Ok(index);
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        Ok(Index::create_in_dir(dir, schema)?)
    }

    /// The index's writer, waiting while another process or thread holds it (tantivy's writer
    /// lock is a file lock the system releases when its holder exits, so the wait ends).
    fn writer(
        index: &Index,
        opts: &BuildOptions,
    ) -> Result<tantivy::IndexWriter<TantivyDocument>, EngineError> {
        loop {
            match index.writer_with_num_threads(
                opts.threads.max(1),
                opts.memory_per_thread.max(16 << 20) * opts.threads.max(1),
            ) {
                Err(tantivy::TantivyError::LockFailure(
                    tantivy::directory::error::LockError::LockBusy,
                    _,
                )) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return Ok(other?),
            }
        }
    }

    /// The stamp of every file in the index, from the fast fields.
    fn stamps_of(index: &Index) -> Result<HashMap<String, FileStamp>, EngineError> {
        let reader = index.reader()?;
        let searcher = reader.searcher();
        let mut out = HashMap::new();
        for seg in searcher.segment_readers() {
            let ff = seg.fast_fields();
            let paths = ff.str(PATH_FIELD)?.ok_or_else(|| {
                tantivy::TantivyError::SchemaError("path is not a fast field".into())
            })?;
            let mtime = ff.u64("mtime")?;
            let size = ff.u64("size")?;
            let hash = ff.u64("hash")?;
            let mut buf = String::new();
            for doc in seg.doc_ids_alive() {
                let Some(ord) = paths.term_ords(doc).next() else {
                    continue;
                };
                buf.clear();
                paths
                    .ord_to_str(ord, &mut buf)
                    .map_err(|e| EngineError::IndexCorrupt {
                        path: PathBuf::from("path column"),
                        detail: e.to_string(),
                    })?;
                out.insert(
                    buf.clone(),
                    FileStamp {
                        mtime_ns: mtime.first(doc).unwrap_or(0),
                        size: size.first(doc).unwrap_or(0),
                        hash: hash.first(doc).unwrap_or(0),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Builds the vector index of the files now in the text index. After an earlier build with
    /// the same settings only files whose content hash changed are embedded again, and a small
    /// change edits the graph in place. Returns the state and the number of files embedded.
    fn build_vectors(
        &self,
        config: &VectorConfig,
        mode: VectorSearch,
        progress: Option<&ProgressHook>,
    ) -> Result<(VectorState, usize), EngineError> {
        let embedder = config.embedder.load().map_err(vector_err)?;
        let vdir = self.dir.join(VECTOR_DIR);
        let old = VectorIndex::open(&vdir)
            .ok()
            .filter(|o| o.config() == config && o.embedder_name() == embedder.name());
        let files = self.files()?;

        // An update that touches few files edits the graph in place; a larger one rebuilds it
        // (reusing the vectors of unchanged files), because many removals leave a graph with
        // holes that a fresh build does not have.
        if let Some(old) = old {
            let current: HashMap<&str, u64> =
                files.iter().map(|(p, s)| (p.as_str(), s.hash)).collect();
            let before: HashMap<&str, u64> = old
                .files()
                .iter()
                .map(|f| (f.path.as_str(), f.hash))
                .collect();
            let removed: Vec<String> = before
                .keys()
                .filter(|p| !current.contains_key(*p))
                .map(|p| (*p).to_owned())
                .collect();
            let stale: Vec<(&str, u64)> = files
                .iter()
                .filter(|(p, s)| before.get(p.as_str()) != Some(&s.hash))
                .map(|(p, s)| (p.as_str(), s.hash))
                .collect();
            if (removed.len() + stale.len()) * 5 <= files.len().max(1) {
                let ticker = Ticker::new(stale.len(), progress);
                let changed: Vec<FileVectors> = stale
                    .par_iter()
                    .map(|(path, hash)| {
                        let fv = self.embed_file(&*embedder, config, path, *hash)?;
                        ticker.tick();
                        Ok(fv)
                    })
                    .collect::<Result<_, EngineError>>()?;
                let mut index = old.update(changed, &removed).map_err(vector_err)?;
                index.set_search_mode(mode);
                index.save(&vdir).map_err(vector_err)?;
                return Ok((VectorState::new(index, Some(embedder)), stale.len()));
            }
            return self.rebuild_vectors(config, mode, embedder, Some(old), &files, progress);
        }
        self.rebuild_vectors(config, mode, embedder, None, &files, progress)
    }

    /// Builds a fresh graph over every file, reusing `old`'s vectors of unchanged files.
    fn rebuild_vectors(
        &self,
        config: &VectorConfig,
        mode: VectorSearch,
        embedder: Arc<dyn Embedder>,
        old: Option<VectorIndex>,
        files: &[(String, FileStamp)],
        progress: Option<&ProgressHook>,
    ) -> Result<(VectorState, usize), EngineError> {
        let ticker = Ticker::new(files.len(), progress);
        let embedded = AtomicUsize::new(0);
        // Each file's vectors go into the graph as soon as they are made (or read back from
        // the old graph), so the build never holds every vector at once.
        let produce = files
            .par_iter()
            .map(|(path, stamp)| -> Result<FileVectors, EngineError> {
                let reused = old
                    .as_ref()
                    .and_then(|o| o.file_vectors(path))
                    .filter(|fv| fv.hash == stamp.hash);
                let fv = match reused {
                    Some(fv) => fv,
                    None => {
                        embedded.fetch_add(1, Ordering::Relaxed);
                        self.embed_file(&*embedder, config, path, stamp.hash)?
                    }
                };
                ticker.tick();
                Ok(fv)
            });
        // Most files of a code tree fit in one or two 40-line chunks; the graph grows if not.
        let estimate = old
            .as_ref()
            .map_or(files.len() * 2, |o| o.len().max(files.len()));
        let mut index = VectorIndex::build(config.clone(), &*embedder, estimate, produce)?;
        index.set_search_mode(mode);
        drop(old);
        index.save(&self.dir.join(VECTOR_DIR)).map_err(vector_err)?;
        Ok((
            VectorState::new(index, Some(embedder)),
            embedded.into_inner(),
        ))
    }

    /// Chunks and embeds one file's stored text.
    fn embed_file(
        &self,
        embedder: &dyn Embedder,
        config: &VectorConfig,
        path: &str,
        hash: u64,
    ) -> Result<FileVectors, EngineError> {
        let text = self.content(path)?.unwrap_or_default();
        FileVectors::embed(embedder, config.chunk.into(), path, hash, &text).map_err(vector_err)
    }

    /// Number of files in the index.
    pub fn num_files(&self) -> usize {
        let _ = self.reader.reload();
        self.reader.searcher().num_docs() as usize
    }

    /// The directory of the index.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Meta data: format version, corpus root, walk settings.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Every indexed path with its stamp, sorted by path.
    pub fn files(&self) -> Result<Vec<(String, FileStamp)>, EngineError> {
        let mut v: Vec<_> = Self::stamps_of(&self.index)?.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v)
    }

    /// Size of the index directory on disk, in bytes.
    pub fn size_on_disk(&self) -> u64 {
        fn dir_size(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => dir_size(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        dir_size(&self.dir)
    }

    /// The stored text of one indexed file.
    pub fn content(&self, path: &str) -> Result<Option<String>, EngineError> {
        let searcher = self.reader.searcher();
        let q = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.path, path),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let hits = searcher.search(&q, &tantivy::collector::DocSetCollector)?;
        let Some(addr) = hits.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(addr)?;
        Ok(doc
            .get_first(self.fields.content)
            .and_then(|v| v.as_str())
            .map(str::to_owned))
    }
}
