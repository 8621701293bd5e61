//! Building, updating and opening a Verity index.
//!
//! An index directory holds generations (see [`crate::generation`]): each a tantivy index,
//! `vectors/` and `generation.json` (corpus root, walk and vector settings), and a pointer to
//! the current one. Updates are incremental: files whose size and modification time are
//! unchanged are not read again; changed files are replaced and vanished files deleted. An
//! update writes the next generation beside the current one and publishes it, text and vectors
//! together, with one rename at the end, so an interrupted run leaves the previous index as it
//! was and a search never sees half an update.

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
pub use crate::generation::FORMAT_VERSION;
use crate::generation::{self, ReadOnlyDirectory, WriterLock, GENERATION_META};
use crate::schema::{build_schema, register_tokenizers, Fields, PATH_FIELD};
use crate::text::{decode_owned, DecodedText, Undecodable};
use crate::vector_state::{VectorSlot, VectorState, VECTOR_DIR};
use crate::walk::{walk, SkipReason, Skipped, WalkOptions};
use verity_vector::embed::Embedder;
use verity_vector::mode::VectorSearch;
use verity_vector::store::{FileVectors, VectorConfig, VectorIndex};

/// A generation's settings, kept in its `generation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexMeta {
    /// The format version this generation was written in ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// The version of the engine that wrote it.
    pub engine_version: String,
    /// Absolute path of the corpus root when last indexed.
    pub root: String,
    /// How the corpus was walked.
    pub walk: WalkOptions,
    /// Settings of the vector index in `vectors/`; none when the index has no vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<VectorConfig>,
}

/// Settings for [`CodeIndex::build`].
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Which files of the corpus are indexed.
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
    /// Called as the build passes each [`BuildPhase`], on the building thread (tests use it
    /// to look at the index between phases, as a concurrent search would).
    pub phase: Option<PhaseHook>,
    /// Stops the build when set: it returns [`EngineError::Cancelled`] soon after (between
    /// files), publishing nothing; the current generation stays as it was.
    pub cancel: Option<crate::deadline::CancelToken>,
}

/// The points of an update at which [`BuildOptions::phase`] is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildPhase {
    /// The writer's lock is held; nothing has been read yet.
    Locked,
    /// The new generation's text is committed; its vectors are not written yet.
    TextCommitted,
    /// The new generation is whole (text, vectors, settings) but not yet published.
    Written,
    /// The new generation is the current one.
    Published,
}

/// A callback for [`BuildPhase`]s.
#[derive(Clone)]
pub struct PhaseHook(pub Arc<dyn Fn(BuildPhase) + Send + Sync>);

impl std::fmt::Debug for PhaseHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhaseHook")
    }
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
            phase: None,
            cancel: None,
        }
    }
}

/// What an index build or update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildReport {
    /// Files in the index after the run.
    pub files: usize,
    /// Files new since the previous generation.
    pub added: usize,
    /// Files whose content changed.
    pub updated: usize,
    /// Files gone from the corpus.
    pub deleted: usize,
    /// Files whose stamp (size, modification time, hash) did not change.
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
    /// Wall time of the build or update.
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

/// An open index, ready to search: one generation of it, which never changes while open.
pub struct CodeIndex {
    /// The index directory (the one users name).
    pub(crate) dir: PathBuf,
    /// The open generation's number and directory.
    pub(crate) generation: u64,
    pub(crate) gen_dir: PathBuf,
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
    /// Modification time when indexed, ns since the epoch (0 when unknown).
    pub mtime_ns: u64,
    /// Size in bytes when indexed.
    pub size: u64,
    /// xxh3 of the file's bytes.
    pub hash: u64,
}

/// Reads the settings of the generation in `gen_dir`.
fn read_meta(gen_dir: &Path) -> Result<IndexMeta, EngineError> {
    let path = gen_dir.join(GENERATION_META);
    let bytes = std::fs::read(&path).map_err(|e| EngineError::IndexCorrupt {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| EngineError::IndexCorrupt {
        path: path.clone(),
        detail: crate::generation::json_detail(&e),
    })
}

fn write_meta(gen_dir: &Path, meta: &IndexMeta) -> Result<(), EngineError> {
    let json = serde_json::to_vec_pretty(meta).expect("meta serializes");
    generation::write_durably(&gen_dir.join(GENERATION_META), &json)
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

/// How many times [`CodeIndex::open`] reads the pointer again when the generation it named was
/// removed before it could be opened (two updates published in the meantime).
const OPEN_ATTEMPTS: usize = 5;

impl CodeIndex {
    /// Opens the current generation of an existing index, for searching (no write access
    /// needed).
    pub fn open(dir: &Path) -> Result<CodeIndex, EngineError> {
        if !dir.exists() {
            return Err(EngineError::IndexMissing(dir.to_path_buf()));
        }
        if !dir.is_dir() {
            return Err(EngineError::NotADirectory(dir.to_path_buf()));
        }
        let mut attempt = 0;
        loop {
            let Some(n) = generation::current(dir)? else {
                return Err(EngineError::IndexMissing(dir.to_path_buf()));
            };
            let gen_dir = generation::generation_dir(dir, n);
            match Self::open_generation(dir, n) {
                // Removed after the pointer was read: a newer generation has been published.
                Err(_) if !gen_dir.exists() && attempt + 1 < OPEN_ATTEMPTS => attempt += 1,
                Err(_) if !gen_dir.exists() => {
                    return Err(EngineError::IndexCorrupt {
                        path: gen_dir,
                        detail: "the current generation's directory is missing".into(),
                    })
                }
                other => return other,
            }
        }
    }

    /// Opens generation `n` of the index in `dir`, read-only.
    fn open_generation(dir: &Path, n: u64) -> Result<CodeIndex, EngineError> {
        let gen_dir = generation::generation_dir(dir, n);
        EngineError::guard(&gen_dir.clone(), || {
            Self::open_generation_in(dir, n, gen_dir)
        })
    }

    fn open_generation_in(dir: &Path, n: u64, gen_dir: PathBuf) -> Result<CodeIndex, EngineError> {
        let corrupt = |detail: String| EngineError::IndexCorrupt {
            path: gen_dir.clone(),
            detail,
        };
        let meta = read_meta(&gen_dir)?;
        let directory = ReadOnlyDirectory::open(&gen_dir).map_err(|e| corrupt(e.to_string()))?;
        let index = Index::open(directory).map_err(|e| corrupt(e.to_string()))?;
        Self::from_parts(dir, n, index, meta)
    }

    fn from_parts(
        dir: &Path,
        generation: u64,
        index: Index,
        meta: IndexMeta,
    ) -> Result<CodeIndex, EngineError> {
        let gen_dir = generation::generation_dir(dir, generation);
        let (expected, fields) = build_schema();
        if index.schema() != expected {
            return Err(EngineError::IndexCorrupt {
                path: gen_dir,
                detail: "schema does not match this engine's".into(),
            });
        }
        register_tokenizers(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| EngineError::IndexCorrupt {
                path: gen_dir.clone(),
                detail: e.to_string(),
            })?;
        // Read on first use: a text query never touches `vectors/`.
        let vectors = VectorSlot::unopened(&gen_dir, meta.vectors.is_some());
        Ok(CodeIndex {
            dir: dir.to_path_buf(),
            generation,
            gen_dir,
            index,
            reader,
            fields,
            meta,
            vectors,
            path_ranks: Default::default(),
        })
    }

    /// Builds the index for `root` in `dir`, or brings an existing one up to date.
    ///
    /// The update is written as a new generation and published at the end (see
    /// [`crate::generation`]); when nothing changed, the current generation stays current and
    /// is returned.
    ///
    /// A current generation whose files are damaged gives [`EngineError::IndexCorrupt`] (never
    /// a panic); `--rebuild` ([`BuildOptions::rebuild`]) does not read it.
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
        let phase = |p: BuildPhase| {
            if let Some(h) = &opts.phase {
                (h.0)(p);
            }
        };

        Self::claim(dir)?;
        // The writer's lock comes before any state is read: two `verity index` runs on one
        // index take turns, and the second reads what the first published (read before the
        // lock, the stamps listed every file the first one changed as changed again, and both
        // added it: two documents for one path, issue #19).
        let _lock = WriterLock::acquire(dir)?;
        phase(BuildPhase::Locked);
        let current = if opts.rebuild {
            // Whatever is there (another format version, a damaged pointer) is replaced; the
            // new generation gets a number no reader can be holding.
            generation::remove_foreign_layout(dir)?;
            None
        } else {
            generation::current(dir)?
        };
        let old = current.map(|n| Self::open_generation(dir, n)).transpose()?;
        let next = generation::next(dir, current);
        let existing = match &old {
            Some(o) => EngineError::guard(&o.gen_dir, || Self::stamps_of(&o.index))?,
            None => HashMap::new(),
        };

        // `old` is the current generation, opened: the new one starts from it.
        let (gen_dir, inherited) = generation::start(dir, current, next)?;
        let index = if old.is_some() {
            Index::open_in_dir(&gen_dir).map_err(|e| EngineError::IndexCorrupt {
                path: gen_dir.clone(),
                detail: e.to_string(),
            })?
        } else {
            Index::create_in_dir(&gen_dir, build_schema().0)?
        };
        let (_, fields) = build_schema();
        register_tokenizers(&index);
        let mut writer = index.writer_with_num_threads(
            opts.threads.max(1),
            opts.memory_per_thread.max(16 << 20) * opts.threads.max(1),
        )?;
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
            Cancelled,
        }
        let cancelled = || opts.cancel.as_ref().is_some_and(|c| c.is_cancelled());
        let outcomes: Vec<(String, Outcome)> = to_read
            .par_iter()
            .map(|(f, existed)| {
                if cancelled() {
                    // Nothing more is read; the build returns Cancelled below.
                    return (f.rel.clone(), Outcome::Cancelled);
                }
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
                    Ok(bytes) => match decode_hashed(bytes) {
                        Err(Undecodable::Binary) => Outcome::Skipped(Skipped {
                            path: f.rel.clone(),
                            reason: SkipReason::Binary,
                            detail: None,
                        }),
                        Ok((decoded, hash, len)) => {
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
                                    bytes: len as u64,
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
                Outcome::Cancelled => return Err(EngineError::Cancelled),
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

        let meta = IndexMeta {
            format_version: FORMAT_VERSION,
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            root: root_abs.to_string_lossy().into_owned(),
            walk: opts.walk.clone(),
            vectors: opts.vectors.clone(),
        };
        // Nothing changed and nothing is to be built differently: the current generation stays.
        if let Some(old) = old {
            let changed = report.added + report.updated + report.deleted > 0;
            let same_vectors = opts.vectors.is_none()
                || old.vector_index().map(|v| v.search_mode()) == Some(opts.vector_search);
            if !changed && old.meta == meta && same_vectors {
                drop(writer);
                let _ = std::fs::remove_dir_all(&gen_dir);
                report.files = old.num_files();
                report.chunks = old.vector_index().map_or(0, |v| v.len());
                report.elapsed = started.elapsed();
                return Ok((old, report));
            }
        }

        if cancelled() {
            return Err(EngineError::Cancelled);
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        phase(BuildPhase::TextCommitted);
        let text_meta = IndexMeta {
            vectors: None,
            ..meta.clone()
        };
        let index = Index::open_in_dir(&gen_dir).map_err(|e| EngineError::IndexCorrupt {
            path: gen_dir.clone(),
            detail: e.to_string(),
        })?;
        let mut code_index = Self::from_parts(dir, next, index, text_meta)?;
        if let Some(config) = &opts.vectors {
            let old_vectors = current.map(|n| generation::generation_dir(dir, n).join(VECTOR_DIR));
            let (state, embedded) =
                code_index.build_vectors(config, opts, old_vectors.as_deref())?;
            report.chunks = state.index.len();
            report.embedded_files = embedded;
            code_index.vectors = VectorSlot::with(&gen_dir, state);
        }
        if cancelled() {
            return Err(EngineError::Cancelled);
        }
        write_meta(&gen_dir, &meta)?;
        generation::write_checksums(&gen_dir, &inherited)?;
        code_index.meta = meta;
        phase(BuildPhase::Written);
        generation::publish(dir, next)?;
        phase(BuildPhase::Published);
        // The previous generation stays for searches that opened it a moment ago; older ones
        // and anything an interrupted update left go.
        let keep: Vec<u64> = std::iter::once(next).chain(current).collect();
        generation::collect_garbage(dir, &keep);
        report.files = code_index.num_files();
        report.elapsed = started.elapsed();
        Ok((code_index, report))
    }

    /// Refuses a directory that holds something other than an index (it is never written),
    /// and creates `dir` when it does not exist.
    fn claim(dir: &Path) -> Result<(), EngineError> {
        let io = |e: std::io::Error| EngineError::Io {
            path: dir.to_path_buf(),
            source: e,
        };
        if dir.exists() {
            let is_ours = dir.join(generation::POINTER_FILE).exists();
            let non_empty = std::fs::read_dir(dir).map_err(io)?.next().is_some();
            if non_empty && !is_ours {
                return Err(EngineError::NotAnIndex(dir.to_path_buf()));
            }
        }
        std::fs::create_dir_all(dir).map_err(io)
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
    ///
    /// `old_vectors` is the previous generation's `vectors/`, read (never written) for the
    /// vectors it can lend; the new ones are written into this generation's.
    fn build_vectors(
        &self,
        config: &VectorConfig,
        opts: &BuildOptions,
        old_vectors: Option<&Path>,
    ) -> Result<(VectorState, usize), EngineError> {
        let (mode, progress) = (opts.vector_search, opts.progress.as_ref());
        let cancel = opts.cancel.as_ref();
        let embedder = config.embedder.load().map_err(vector_err)?;
        let vdir = self.gen_dir.join(VECTOR_DIR);
        let old = old_vectors
            .filter(|d| d.join("meta.json").exists())
            .and_then(|d| VectorIndex::open(d).ok())
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
                        let fv = self.embed_file(&*embedder, config, path, *hash, cancel)?;
                        ticker.tick();
                        Ok(fv)
                    })
                    .collect::<Result<_, EngineError>>()?;
                let mut index = old.update(changed, &removed).map_err(vector_err)?;
                index.set_search_mode(mode);
                index.save(&vdir).map_err(vector_err)?;
                return Ok((VectorState::new(index, Some(embedder)), stale.len()));
            }
            return self.rebuild_vectors(config, opts, embedder, Some(old), &files);
        }
        self.rebuild_vectors(config, opts, embedder, None, &files)
    }

    /// Builds a fresh graph over every file, reusing `old`'s vectors of unchanged files.
    fn rebuild_vectors(
        &self,
        config: &VectorConfig,
        opts: &BuildOptions,
        embedder: Arc<dyn Embedder>,
        old: Option<VectorIndex>,
        files: &[(String, FileStamp)],
    ) -> Result<(VectorState, usize), EngineError> {
        let (mode, progress) = (opts.vector_search, opts.progress.as_ref());
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
                        self.embed_file(&*embedder, config, path, stamp.hash, opts.cancel.as_ref())?
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
        index
            .save(&self.gen_dir.join(VECTOR_DIR))
            .map_err(vector_err)?;
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
        cancel: Option<&crate::deadline::CancelToken>,
    ) -> Result<FileVectors, EngineError> {
        if cancel.is_some_and(|c| c.is_cancelled()) {
            return Err(EngineError::Cancelled);
        }
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

    /// The number of the generation this index has open.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Reads every file of the open generation and compares it with the checksums recorded
    /// when it was written: any damage since, even a flipped byte no search would notice.
    pub fn verify(&self) -> Result<generation::Verification, EngineError> {
        generation::verify(&self.gen_dir)
    }

    /// The directory of the open generation (its tantivy files, `vectors/` and settings).
    pub fn generation_dir(&self) -> &Path {
        &self.gen_dir
    }

    /// Meta data: format version, corpus root, walk settings.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Every indexed path with its stamp, sorted by path.
    pub fn files(&self) -> Result<Vec<(String, FileStamp)>, EngineError> {
        let stamps = EngineError::guard(&self.gen_dir, || Self::stamps_of(&self.index))?;
        let mut v: Vec<_> = stamps.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v)
    }

    /// Size of the open generation on disk, in bytes (what the index costs; the previous
    /// generation, kept until the next update, shares its unchanged text files).
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.gen_dir)
    }

    /// Of [`size_on_disk`](Self::size_on_disk), the bytes of the vector index (chunk tables
    /// and the graph with its vectors); 0 without vectors.
    pub fn vectors_size_on_disk(&self) -> u64 {
        dir_size(&self.gen_dir.join(crate::vector_state::VECTOR_DIR))
    }

    /// The stored text of one indexed file.
    pub fn content(&self, path: &str) -> Result<Option<String>, EngineError> {
        EngineError::guard(&self.gen_dir, || self.read_content(path))
    }

    fn read_content(&self, path: &str) -> Result<Option<String>, EngineError> {
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

/// A file's text, with the xxh3 and the length of its bytes.
fn decode_hashed(bytes: Vec<u8>) -> Result<(DecodedText, u64, usize), Undecodable> {
    let (hash, len) = (xxhash_rust::xxh3::xxh3_64(&bytes), bytes.len());
    decode_owned(bytes).map(|d| (d, hash, len))
}

/// Bytes of the files under `p`, recursively; 0 for what cannot be read.
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
