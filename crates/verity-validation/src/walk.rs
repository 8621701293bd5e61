//! Which files an engine searches: the walk rules the truth must be computed under, shared by
//! the backends (each says what it searches), the tool adapters and the backend protocol.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The file-selection rules an engine applies, so that the truth is computed over the same
/// files (docs/query-language.md, section 1, describes Verity's defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WalkRules {
    /// Hidden files and directories are searched.
    pub hidden: bool,
    /// `.gitignore`, `.ignore` and `.git/info/exclude` rules are honoured.
    pub ignore_files: bool,
    /// Directories named `.git`, `target` and `node_modules` are skipped.
    pub default_excludes: bool,
    /// Files larger than this many bytes are skipped.
    pub max_filesize: u64,
    /// When the engine searches a list of files it made (an index that skipped some files
    /// for reasons of its own): that list, corpus-relative and `/`-separated. The truth then
    /// covers the files of the rules above that are in the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
}

impl Default for WalkRules {
    /// Verity's own walk (ripgrep's defaults).
    fn default() -> Self {
        WalkRules {
            hidden: false,
            ignore_files: true,
            default_excludes: true,
            max_filesize: 10 * 1024 * 1024,
            files: None,
        }
    }
}

impl From<&WalkRules> for verity_oracle::CorpusRules {
    fn from(w: &WalkRules) -> Self {
        verity_oracle::CorpusRules {
            hidden: w.hidden,
            ignore_files: w.ignore_files,
            skip_build_dirs: w.default_excludes,
            max_bytes: w.max_filesize,
        }
    }
}

impl From<&verity_oracle::CorpusRules> for WalkRules {
    fn from(r: &verity_oracle::CorpusRules) -> Self {
        WalkRules {
            hidden: r.hidden,
            ignore_files: r.ignore_files,
            default_excludes: r.skip_build_dirs,
            max_filesize: r.max_bytes,
            files: None,
        }
    }
}
