//! Building, updating and opening a Verity index.
//!
//! An index directory holds generations (see [`crate::generation`]): each a tantivy index,
//! `vectors/` and `generation.json` (corpus root, walk and vector settings), and a pointer to
//! the current one. Updates are incremental: files whose size and modification time are
//! unchanged are not read again; changed files are replaced and vanished files deleted. An
//! update writes the next generation beside the current one and publishes it, text and vectors
//! together, with one rename at the end, so an interrupted run leaves the previous index as it
//! was and a search never sees half an update.
//!
//! This module builds, updates and opens; `settings` holds what a build is given and reports
//! ([`BuildOptions`], [`BuildReport`], [`IndexMeta`]), and `vectors` the vector side of a build.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, Term};

use crate::error::EngineError;
pub use crate::generation::FORMAT_VERSION;
use crate::generation::{self, ReadOnlyDirectory, WriterLock, GENERATION_META};
use crate::plan::PlanContext;
use crate::schema::{build_schema, Fields, PATH_FIELD, TEXT_FIELD};
use crate::text::{decode_owned, DecodedText, Undecodable};
use crate::text_store::{self, TextStore, TextWriter};
use crate::tokenizer::TrigramScanner;
use crate::trigram_index::TrigramIndex;
use crate::vector_state::{VectorSlot, VectorState, VECTOR_DIR};
use crate::walk::{walk, SkipReason, Skipped, WalkOptions};
use crate::word_index::{FileWords, WordIndex, WordScanner, WordWriter};

mod settings;
mod vectors;

use settings::{read_meta, write_meta};
pub use settings::{BuildOptions, BuildPhase, BuildReport, IndexMeta, PhaseHook, ProgressHook};
use verity_vector::embed::Embedder;
use verity_vector::mode::VectorSearch;
use verity_vector::store::{FileVectors, VectorConfig, VectorIndex};

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
    /// The generation's texts and paths, read by verification.
    pub(crate) texts: TextStore,
    /// The fields and the generation's trigram index: what candidate plans are made of.
    pub(crate) plan: PlanContext,
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
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| EngineError::IndexCorrupt {
                path: gen_dir.clone(),
                detail: e.to_string(),
            })?;
        let texts = TextStore::open(&gen_dir)?;
        let plan = PlanContext {
            trigrams: Arc::new(TrigramIndex::new(texts.trigram_sections())),
            words: Arc::new(WordIndex::new(texts.word_sections())),
        };
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
            texts,
            plan,
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
            Some(o) => EngineError::guard(&o.gen_dir, || Self::stamps_and_addresses_of(&o.index))?,
            None => HashMap::new(),
        };

        // `old` is the current generation, opened: the new one starts from it.
        let (gen_dir, mut known_sums) = generation::start(dir, current, next)?;
        let index = if old.is_some() {
            Index::open_in_dir(&gen_dir).map_err(|e| EngineError::IndexCorrupt {
                path: gen_dir.clone(),
                detail: e.to_string(),
            })?
        } else {
            Index::create_in_dir(&gen_dir, build_schema().0)?
        };
        let (_, fields) = build_schema();
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
        // Unchanged files, with their stamps and text addresses: the candidates for moving
        // into this build's batch of the text store.
        let mut kept: Vec<(&str, FileStamp, Option<u64>)> = Vec::new();
        for f in &walked.files {
            seen.insert(f.rel.as_str());
            match existing.get(&f.rel) {
                Some((s, a)) if s.mtime_ns == f.mtime_ns && s.size == f.size => {
                    report.unchanged += 1;
                    kept.push((f.rel.as_str(), *s, *a));
                }
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
        // Unchanged files whose batch is folded into this build's: their stored texts are
        // written again, and their documents added again with the new addresses. A build
        // that only deletes folds too, so deletions cannot leave mostly dead batches.
        let folded = match &old {
            Some(o) if !to_read.is_empty() || report.deleted > 0 => {
                folded_batches(&o.texts, &kept, to_read.len())
            }
            _ => HashSet::new(),
        };
        let mut to_move: Vec<(&str, FileStamp, u64)> = kept
            .iter()
            .filter_map(|&(p, s, a)| {
                let a = a?;
                folded
                    .contains(&text_store::split(a).0)
                    .then_some((p, s, a))
            })
            .collect();
        to_move.sort_unstable_by_key(|&(_, _, a)| a);
        for (p, _, _) in &to_move {
            writer.delete_term(path_term(p));
        }

        enum Outcome {
            Added {
                existed: bool,
                bytes: u64,
                lossy: bool,
            },
            Moved,
            Skipped(Skipped),
            Cancelled,
        }
        /// A file read and decoded, ready to be written.
        struct Read {
            text: String,
            /// Its distinct trigrams' keys, found here in parallel: the trigram index's
            /// lists are then only appended to.
            trigrams: Vec<u64>,
            /// Its words, grouped, found here in parallel too.
            words: FileWords,
            hash: u64,
            bytes: usize,
            lossy: bool,
        }
        let cancelled = || opts.cancel.as_ref().is_some_and(|c| c.is_cancelled());
        let batch = u32::try_from(next).map_err(|_| EngineError::Io {
            path: gen_dir.clone(),
            source: std::io::Error::other("too many generations for the text store"),
        })?;
        let batch_path = gen_dir.join(text_store::batch_file_name(batch));
        let io_at = |source| EngineError::Io {
            path: batch_path.clone(),
            source,
        };
        let mut texts = match to_read.len() + to_move.len() {
            0 => None,
            _ => {
                Some(TextWriter::create(&batch_path, batch, opts.text_compression).map_err(io_at)?)
            }
        };
        // The batch's word index, given the same texts in the same order (on a thread of its
        // own while files are read, then here for moved texts).
        let mut words = WordWriter::default();
        // A document for tantivy; its text is also appended to this build's batch.
        let mut add = |path: &str,
                       text: String,
                       trigrams: &[u64],
                       stamp: FileStamp|
         -> Result<Result<(), String>, EngineError> {
            let texts = texts
                .as_mut()
                .expect("a batch is open while files are added");
            let address = texts.append(path, &text, trigrams).map_err(io_at)?;
            let res = writer.add_document(doc!(
                fields.path => path,
                fields.text => address,
                fields.mtime => stamp.mtime_ns,
                fields.size => stamp.size,
                fields.hash => stamp.hash,
            ));
            Ok(res.map(|_| ()).map_err(|e| format!("index error: {e}")))
        };
        // Files are read and decoded in parallel, a chunk at a time, and written in order while
        // the next chunk is read: texts and trigrams on one thread, words on another. The text
        // store is one file, its trigram and word lists are appended to in entry order, and a
        // chunk bounds the texts held in memory.
        let read = |(f, _): &(&crate::walk::WalkedFile, bool)| -> Result<Read, Outcome> {
            if cancelled() {
                // Nothing more is read; the build returns Cancelled below.
                return Err(Outcome::Cancelled);
            }
            let skipped = |reason, detail| {
                Err(Outcome::Skipped(Skipped {
                    path: f.rel.clone(),
                    reason,
                    detail,
                }))
            };
            match std::fs::read(&f.abs) {
                Err(e) => skipped(SkipReason::Unreadable, Some(e.to_string())),
                Ok(bytes) if bytes.len() as u64 > opts.walk.max_file_size => {
                    skipped(SkipReason::TooLarge, Some(format!("{} bytes", bytes.len())))
                }
                Ok(bytes) => match decode_hashed(bytes) {
                    Err(Undecodable::Binary) => skipped(SkipReason::Binary, None),
                    Ok((decoded, hash, bytes)) => Ok(Read {
                        trigrams: SCANNER.with_borrow_mut(|s| s.scan(&decoded.text).to_vec()),
                        words: WORDS.with_borrow_mut(|s| s.scan(&decoded.text)),
                        text: decoded.text,
                        hash,
                        bytes,
                        lossy: decoded.lossy,
                    }),
                },
            }
        };
        let add_ref = &mut add;
        let words_ref = &mut words;
        let mut outcomes: Vec<(String, Outcome)> = std::thread::scope(|scope| {
            let (chunks, written) = std::sync::mpsc::sync_channel::<Vec<Result<Read, Outcome>>>(1);
            let (word_chunks, words_written) = std::sync::mpsc::sync_channel::<Vec<FileWords>>(1);
            let to_read = &to_read;
            // Every file read is appended to the batch (or the build fails), so the word
            // writer numbers the same texts the same way.
            let writing_words = scope.spawn(move || {
                for chunk in words_written {
                    for w in &chunk {
                        words_ref.add(w);
                    }
                }
                words_ref.sort();
            });
            let writing = scope.spawn(move || {
                let mut outcomes: Vec<(String, Outcome)> = Vec::with_capacity(to_read.len());
                let mut files = to_read.iter();
                for reads in written {
                    // `reads` first: `zip` takes from its left side before it finds the right
                    // one ended, and a file taken here is not written.
                    for (read, (f, existed)) in reads.into_iter().zip(files.by_ref()) {
                        let outcome = match read {
                            Err(outcome) => outcome,
                            Ok(r) => {
                                let stamp = FileStamp {
                                    mtime_ns: f.mtime_ns,
                                    size: f.size,
                                    hash: r.hash,
                                };
                                match add_ref(&f.rel, r.text, &r.trigrams, stamp)? {
                                    Ok(()) => Outcome::Added {
                                        existed: *existed,
                                        bytes: r.bytes as u64,
                                        lossy: r.lossy,
                                    },
                                    Err(detail) => Outcome::Skipped(Skipped {
                                        path: f.rel.clone(),
                                        reason: SkipReason::Unreadable,
                                        detail: Some(detail),
                                    }),
                                }
                            }
                        };
                        outcomes.push((f.rel.clone(), outcome));
                    }
                }
                Ok::<_, EngineError>(outcomes)
            });
            for chunk in to_read.chunks(READ_CHUNK) {
                let mut reads: Vec<Result<Read, Outcome>> = chunk.par_iter().map(&read).collect();
                let words = reads
                    .iter_mut()
                    .filter_map(|r| r.as_mut().ok().map(|r| std::mem::take(&mut r.words)))
                    .collect();
                if chunks.send(reads).is_err() || word_chunks.send(words).is_err() {
                    // The writer stopped on an error, which its join returns.
                    break;
                }
            }
            drop((chunks, word_chunks));
            if let Err(panic) = writing_words.join() {
                std::panic::resume_unwind(panic);
            }
            match writing.join() {
                Ok(outcomes) => outcomes,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        if let (Some(o), false) = (&old, cancelled()) {
            // In address order, so each block of a folded batch is decompressed once.
            let mut cursor = text_store::Cursor::default();
            let mut scanner = TrigramScanner::default();
            let mut word_scanner = WordScanner::default();
            for &(path, stamp, address) in &to_move {
                let text = EngineError::guard(&o.gen_dir, || {
                    Ok(o.texts.read(address, &mut cursor)?.1.to_owned())
                })?;
                let trigrams = scanner.scan(&text).to_vec();
                words.add(&word_scanner.scan(&text));
                let outcome = match add(path, text, &trigrams, stamp)? {
                    Ok(()) => Outcome::Moved,
                    Err(detail) => Outcome::Skipped(Skipped {
                        path: path.to_owned(),
                        reason: SkipReason::Unreadable,
                        detail: Some(detail),
                    }),
                };
                outcomes.push((path.to_owned(), outcome));
            }
        }
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
                Outcome::Moved => {}
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
        // The batch's trigram section is sorted and written on a thread of its own while
        // tantivy commits (about 0.2 s of the registry's build). Every return below joins it.
        let mut finishing = texts
            .take()
            .map(|t| std::thread::spawn(move || t.finish(words)));
        let mut finish_texts = || -> Result<(), EngineError> {
            match finishing.take().map(std::thread::JoinHandle::join) {
                None => Ok(()),
                Some(Ok(written)) => {
                    let (_, sum) = written.map_err(io_at)?;
                    // Summed as it was written: its checksum is not read back.
                    known_sums.record(text_store::batch_file_name(batch), sum);
                    Ok(())
                }
                Some(Err(panic)) => std::panic::resume_unwind(panic),
            }
        };

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
                finish_texts()?;
                drop(writer);
                let _ = std::fs::remove_dir_all(&gen_dir);
                report.files = old.num_files();
                report.chunks = old.vector_index().map_or(0, |v| v.len());
                report.elapsed = started.elapsed();
                return Ok((old, report));
            }
        }

        if cancelled() {
            finish_texts()?;
            return Err(EngineError::Cancelled);
        }
        let committed = writer.commit();
        finish_texts()?;
        committed?;
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
        remove_unreferenced_batches(&index, &gen_dir)?;
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
        generation::write_checksums(&gen_dir, &known_sums)?;
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

    /// The stamp and text address of every file in the index, from the fast fields.
    fn stamps_and_addresses_of(
        index: &Index,
    ) -> Result<HashMap<String, (FileStamp, Option<u64>)>, EngineError> {
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
            let address = ff.u64(TEXT_FIELD)?;
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
                let stamp = FileStamp {
                    mtime_ns: mtime.first(doc).unwrap_or(0),
                    size: size.first(doc).unwrap_or(0),
                    hash: hash.first(doc).unwrap_or(0),
                };
                out.insert(buf.clone(), (stamp, address.first(doc)));
            }
        }
        Ok(out)
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
        let stamps =
            EngineError::guard(&self.gen_dir, || Self::stamps_and_addresses_of(&self.index))?;
        let mut v: Vec<_> = stamps.into_iter().map(|(p, (s, _))| (p, s)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(v)
    }

    /// Size of the open generation on disk, in bytes (what the index costs; the previous
    /// generation, kept until the next update, shares its unchanged text files).
    pub fn size_on_disk(&self) -> u64 {
        dir_size(&self.gen_dir)
    }

    /// Of [`size_on_disk`](Self::size_on_disk), the bytes of the vector index (chunk table,
    /// the vectors, flat or in their graph); 0 without vectors.
    pub fn vectors_size_on_disk(&self) -> u64 {
        dir_size(&self.vectors_dir())
    }

    /// Where the open generation keeps its vector index (`vectors/`; absent without vectors):
    /// what [`verity_vector::store::VectorIndex::open`] reads.
    pub fn vectors_dir(&self) -> PathBuf {
        self.gen_dir.join(crate::vector_state::VECTOR_DIR)
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
        let address = searcher
            .segment_reader(addr.segment_ord)
            .fast_fields()
            .u64(TEXT_FIELD)?
            .first(addr.doc_id);
        let Some(address) = address else {
            return Err(EngineError::IndexCorrupt {
                path: self.gen_dir.clone(),
                detail: format!("{path} has no text address"),
            });
        };
        let mut cursor = text_store::Cursor::default();
        Ok(Some(self.texts.read(address, &mut cursor)?.1.to_owned()))
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

/// Files read and decoded at a time, in parallel, before they are written in order.
const READ_CHUNK: usize = 1024;

thread_local! {
    /// Each reading thread's trigram scanner (its bitmap is reused from file to file).
    static SCANNER: std::cell::RefCell<TrigramScanner> = Default::default();
    /// Each reading thread's word scanner (its table is reused from file to file).
    static WORDS: std::cell::RefCell<WordScanner> = Default::default();
}

/// The batches of `texts` this build folds into its own, given the unchanged files (`kept`,
/// with their text addresses) and the number of files it reads.
///
/// A batch is folded when most of its entries are dead (deleted or replaced files), or when it
/// holds no more live files than the build writes with the batches folded so far, smallest
/// first: like a binary counter, a run of small updates keeps a logarithmic number of batches,
/// and each text is moved a logarithmic number of times.
fn folded_batches(
    texts: &TextStore,
    kept: &[(&str, FileStamp, Option<u64>)],
    reading: usize,
) -> HashSet<u32> {
    let mut live: HashMap<u32, usize> = HashMap::new();
    for (_, _, a) in kept {
        if let Some(a) = a {
            *live.entry(text_store::split(*a).0).or_default() += 1;
        }
    }
    let mut batches: Vec<(usize, u32, u32)> = texts
        .batches()
        .map(|(n, entries)| (live.get(&n).copied().unwrap_or(0), n, entries))
        .collect();
    batches.sort_unstable();
    let mut folded = HashSet::new();
    let mut writing = reading;
    for (live, n, entries) in batches {
        if live * 2 < entries as usize || live <= writing {
            folded.insert(n);
            writing += live;
        }
    }
    folded
}

/// Removes the text store's batches in `gen_dir` that no live document of `index` points into
/// (inherited from the previous generation and folded, or emptied by deletions).
fn remove_unreferenced_batches(index: &Index, gen_dir: &Path) -> Result<(), EngineError> {
    let searcher = index.reader()?.searcher();
    let mut referenced = HashSet::new();
    for seg in searcher.segment_readers() {
        let addresses = seg.fast_fields().u64(TEXT_FIELD)?;
        for doc in seg.doc_ids_alive() {
            if let Some(a) = addresses.first(doc) {
                referenced.insert(text_store::split(a).0);
            }
        }
    }
    let io_at = |source| EngineError::Io {
        path: gen_dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(gen_dir).map_err(io_at)? {
        let entry = entry.map_err(io_at)?;
        let name = entry.file_name();
        let unreferenced = name
            .to_str()
            .and_then(text_store::batch_of_file_name)
            .is_some_and(|n| !referenced.contains(&n));
        if unreferenced {
            std::fs::remove_file(entry.path()).map_err(io_at)?;
        }
    }
    Ok(())
}
