//! What a build is given and what it reports: [`BuildOptions`] and its hooks, [`BuildReport`],
//! and the settings a generation keeps in `generation.json` ([`IndexMeta`]).

use super::*;

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
    /// How the texts this build writes to the text store are stored (batches written before
    /// keep theirs until they are folded or the index is rebuilt).
    pub text_compression: crate::TextCompression,
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
            text_compression: crate::TextCompression::default(),
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

/// Reads the settings of the generation in `gen_dir`.
pub(super) fn read_meta(gen_dir: &Path) -> Result<IndexMeta, EngineError> {
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

pub(super) fn write_meta(gen_dir: &Path, meta: &IndexMeta) -> Result<(), EngineError> {
    let json = serde_json::to_vec_pretty(meta).expect("meta serializes");
    generation::write_durably(&gen_dir.join(GENERATION_META), &json)
}
