//! What commands read from the user's files, with errors that name the file: a corpus (as the
//! oracle sees it) and a ground-truth file.

use std::path::Path;

use verity_oracle::{Corpus, CorpusRules};
use verity_validation::GroundTruthDataset;

use crate::exit::Failure;
use crate::WalkArgs;

impl WalkArgs {
    /// The oracle's corpus rules for the same walk flags.
    pub fn corpus_rules(&self) -> CorpusRules {
        CorpusRules {
            hidden: self.hidden,
            ignore_files: !self.no_ignore,
            skip_build_dirs: !self.no_default_excludes,
            max_bytes: self.max_filesize,
        }
    }
}

/// The corpus in `dir` under the walk flags.
pub fn load_corpus(dir: &Path, walk: &WalkArgs) -> Result<Corpus, Failure> {
    Corpus::load(dir, &walk.corpus_rules())
        .map_err(|e| Failure::input(format!("corpus {}: {e}", dir.display())))
}

/// A ground-truth file; the error names the line and column.
pub fn load_truth(path: &Path) -> Result<GroundTruthDataset, Failure> {
    GroundTruthDataset::load(path).map_err(|e| Failure::input(e.to_string().trim_end()))
}
