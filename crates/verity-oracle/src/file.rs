//! One text file of a corpus, with its code tokens made on first use.

use std::sync::OnceLock;

use crate::tokens::{token_spans, TokenSpan};

/// One text file of the corpus.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Relative path, `/`-separated.
    pub path: String,
    /// The text: BOM removed, invalid UTF-8 replaced.
    pub text: String,
    /// The code tokens of `text`, made on first use: every phrase and proximity query of a
    /// generation run needs them, and tokenizing the corpus again per query made truth for
    /// 2,000 files take minutes.
    tokens: OnceLock<Vec<TokenSpan>>,
}

impl CorpusFile {
    /// A file of the corpus: its path (relative, `/`-separated) and its text.
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> CorpusFile {
        CorpusFile {
            path: path.into(),
            text: text.into(),
            tokens: OnceLock::new(),
        }
    }

    /// The file's code tokens (section 3), in order.
    pub fn tokens(&self) -> &[TokenSpan] {
        self.tokens.get_or_init(|| token_spans(&self.text))
    }

    /// The text of a token of this file.
    pub fn token_text(&self, t: TokenSpan) -> &str {
        &self.text[t.start as usize..t.end as usize]
    }

    /// The file's lines as the document defines them: split at `\n`, a final `\n` starts no
    /// new line, an empty text has none.
    pub fn lines(&self) -> Vec<&str> {
        if self.text.is_empty() {
            return Vec::new();
        }
        let body = self.text.strip_suffix('\n').unwrap_or(&self.text);
        body.split('\n').collect()
    }
}
