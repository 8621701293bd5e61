//! The corpus as the query language defines it (section 1, "Files and text").

use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::file::CorpusFile;
use crate::postings::TermStats;

/// Which files belong to the corpus. The defaults are the document's.
#[derive(Debug, Clone)]
pub struct CorpusRules {
    /// Include hidden files and directories.
    pub hidden: bool,
    /// Honour `.gitignore`, `.ignore` and `.git/info/exclude`.
    pub ignore_files: bool,
    /// Leave out `.git/`, `target/` and `node_modules/` directories.
    pub skip_build_dirs: bool,
    /// Files larger than this are left out.
    pub max_bytes: u64,
}

impl Default for CorpusRules {
    fn default() -> Self {
        CorpusRules {
            hidden: false,
            ignore_files: true,
            skip_build_dirs: true,
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// All text files of a corpus, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    files: Vec<CorpusFile>,
    /// Token counts for BM25, made on first use.
    terms: OnceLock<TermStats>,
}

/// The text of raw file bytes, or `None` for a binary file.
pub fn text_of(bytes: &[u8]) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    let bytes = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        &bytes[3..]
    } else {
        bytes
    };
    Some(String::from_utf8_lossy(bytes).into_owned())
}

impl Corpus {
    /// Reads every file of the corpus under `root`.
    pub fn load(root: &Path, rules: &CorpusRules) -> std::io::Result<Corpus> {
        let meta = std::fs::metadata(root)?;
        if !meta.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a directory", root.display()),
            ));
        }
        let skip_build_dirs = rules.skip_build_dirs;
        let walker = ignore::WalkBuilder::new(root)
            .hidden(!rules.hidden)
            .parents(rules.ignore_files)
            .ignore(rules.ignore_files)
            .git_ignore(rules.ignore_files)
            .git_exclude(rules.ignore_files)
            .git_global(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |e| {
                !(skip_build_dirs
                    && e.depth() > 0
                    && e.file_type().is_some_and(|t| t.is_dir())
                    && matches!(
                        e.file_name().to_str(),
                        Some(".git" | "target" | "node_modules")
                    ))
            })
            .build();
        let mut files = Vec::new();
        for entry in walker.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            if bytes.len() as u64 > rules.max_bytes {
                continue;
            }
            let Some(text) = text_of(&bytes) else {
                continue;
            };
            // Lossless: two names that differ only in bytes that are not UTF-8 stay two files.
            let path = verity_core::path::relative(root, entry.path());
            files.push(CorpusFile::new(path, text));
        }
        Ok(Self::from_files(files))
    }

    /// A corpus from in-memory files (tests, generated corpora).
    pub fn from_files(mut files: Vec<CorpusFile>) -> Corpus {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Corpus {
            files,
            terms: OnceLock::new(),
        }
    }

    /// Token counts of every file, for BM25 (made once, in parallel).
    pub fn term_stats(&self) -> &TermStats {
        self.terms.get_or_init(|| TermStats::of(&self.files))
    }

    /// The files, in path order.
    pub fn files(&self) -> &[CorpusFile] {
        &self.files
    }

    /// `sha256:` + hex of SHA-256 over every file, in path order: path, NUL, text length as
    /// 8 little-endian bytes, text. Truth computed for another state of the corpus has another
    /// fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for f in &self.files {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update((f.text.len() as u64).to_le_bytes());
            h.update(f.text.as_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}
