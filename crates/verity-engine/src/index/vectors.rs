//! The vector side of a build: embedding the files now in the text index, reusing the vectors
//! of files whose content did not change, and editing or rebuilding the graph.

use super::*;

impl CodeIndex {
    /// Builds the vector index of the files now in the text index. After an earlier build with
    /// the same settings only files whose content hash changed are embedded again, and a small
    /// change edits the graph in place. Returns the state and the number of files embedded.
    ///
    /// `old_vectors` is the previous generation's `vectors/`, read (never written) for the
    /// vectors it can lend; the new ones are written into this generation's.
    pub(super) fn build_vectors(
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
            let before: HashMap<&str, u64> = old.files().iter().map(|f| (f.path, f.hash)).collect();
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
                // The storage follows the mode at the new size: an update that carries an
                // `auto` index past the exact-search threshold builds its graph here.
                index.set_search_mode(mode).map_err(vector_err)?;
                index.save(&vdir).map_err(vector_err)?;
                return Ok((VectorState::new(index, Some(embedder)), stale.len()));
            }
            return self.rebuild_vectors(config, opts, embedder, Some(old), &files);
        }
        self.rebuild_vectors(config, opts, embedder, None, &files)
    }

    /// Builds the vector index afresh over every file, reusing `old`'s vectors of unchanged
    /// files.
    pub(super) fn rebuild_vectors(
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
        // Each file's vectors are encoded as soon as they are made (or read back from the old
        // index), so the build never holds every `f32` vector at once.
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
        // Built flat; the graph only when the mode searches through one at this size.
        index.set_search_mode(mode).map_err(vector_err)?;
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
    pub(super) fn embed_file(
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
}
