//! Code tokens (docs/query-language.md, section 1): runs of word characters, and every other
//! non-whitespace character on its own. The oracle's own tokenizer, written from the spec:
//! it shares no code with the engine's.

/// A word character: `_` or any Unicode alphabetic or numeric character.
pub fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// A code token of a file: the byte range of its text, and whether it is a word token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSpan {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
    /// A word token (letters, digits, `_`), not punctuation.
    pub word: bool,
}

/// The code tokens of a text as byte ranges (the same rule as [`tokenize`]).
pub fn token_spans(text: &str) -> Vec<TokenSpan> {
    let mut out = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if is_word(c) {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = word_start.take() {
            out.push(TokenSpan {
                start: s as u32,
                end: i as u32,
                word: true,
            });
        }
        if !c.is_whitespace() {
            out.push(TokenSpan {
                start: i as u32,
                end: (i + c.len_utf8()) as u32,
                word: false,
            });
        }
    }
    if let Some(s) = word_start {
        out.push(TokenSpan {
            start: s as u32,
            end: text.len() as u32,
            word: true,
        });
    }
    out
}

/// The code tokens of a text: (token, is it a word token).
pub fn tokenize(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_word(c) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push((std::mem::take(&mut word), true));
        }
        if !c.is_whitespace() {
            out.push((c.to_string(), false));
        }
    }
    if !word.is_empty() {
        out.push((word, true));
    }
    out
}
