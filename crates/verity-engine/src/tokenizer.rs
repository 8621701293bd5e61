//! The engine's two tokenizers, both registered with tantivy.
//!
//! * [`CodeTokenizer`] splits text into *code tokens*: a maximal run of word characters
//!   (`_` or any Unicode alphanumeric, `char::is_alphanumeric`) is one token, and every other
//!   character that is not whitespace is a token of its own. So `std::io` is `std`, `:`, `:`,
//!   `io` and `Vec<Vec<u8>>` ends in `>`, `>`: splitting operators into single characters is what
//!   keeps generics such as `Vec<u8>>` searchable as `Vec<u8>`. Tokens keep their case. Phrase and
//!   proximity queries are defined over these tokens (docs/query-language.md).
//! * [`TrigramTokenizer`] emits every window of three characters after [`fold_char`]; the trigram
//!   field only narrows the candidate files, which are then verified against the stored text.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Word tokens longer than this many bytes are not put in the code field (tantivy terms have a
/// size limit, and such tokens are minified data, not code). Queries that need one fall back to
/// trigram candidates, so results stay exact.
pub const MAX_INDEXED_TOKEN_BYTES: usize = 256;

/// Is `c` a word character? One definition for the whole engine.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// A code token: its text and byte range in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeToken<'a> {
    /// The token's text.
    pub text: &'a str,
    /// Byte offset where it starts.
    pub start: usize,
    /// Byte offset where it ends (exclusive).
    pub end: usize,
    /// A word (identifier or number) rather than a run of symbols.
    pub is_word: bool,
}

/// Iterates over the code tokens of `text`.
pub fn code_tokens(text: &str) -> CodeTokens<'_> {
    CodeTokens { text, pos: 0 }
}

/// Iterator returned by [`code_tokens`].
pub struct CodeTokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for CodeTokens<'a> {
    type Item = CodeToken<'a>;

    fn next(&mut self) -> Option<CodeToken<'a>> {
        let rest = &self.text[self.pos..];
        let mut chars = rest.char_indices();
        // Skip whitespace.
        let (start_rel, first) = loop {
            let (i, c) = chars.next()?;
            if !c.is_whitespace() {
                break (i, c);
            }
        };
        let start = self.pos + start_rel;
        let end = if is_word_char(first) {
            let mut end = start + first.len_utf8();
            for (i, c) in chars {
                if !is_word_char(c) {
                    break;
                }
                end = self.pos + i + c.len_utf8();
            }
            end
        } else {
            start + first.len_utf8()
        };
        self.pos = end;
        Some(CodeToken {
            text: &self.text[start..end],
            start,
            end,
            is_word: is_word_char(first),
        })
    }
}

/// tantivy adapter for [`code_tokens`].
#[derive(Clone, Default)]
pub struct CodeTokenizer {
    token: Token,
}

/// The token stream of [`CodeTokenizer`] for tantivy.
pub struct CodeTokenStream<'a> {
    inner: CodeTokens<'a>,
    token: &'a mut Token,
    position: usize,
}

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = CodeTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> CodeTokenStream<'a> {
        self.token.reset();
        CodeTokenStream {
            inner: code_tokens(text),
            token: &mut self.token,
            position: 0,
        }
    }
}

impl TokenStream for CodeTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(t) = self.inner.next() else {
            return false;
        };
        // Over-long tokens keep their position (so phrase positions stay true) but are stored
        // as a marker that no query term can equal.
        self.token.text.clear();
        if t.text.len() > MAX_INDEXED_TOKEN_BYTES {
            self.token.text.push('\u{0}');
        } else {
            self.token.text.push_str(t.text);
        }
        self.token.offset_from = t.start;
        self.token.offset_to = t.end;
        self.token.position = self.position;
        self.token.position_length = 1;
        self.position += 1;
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The per-character normalisation applied before trigrams are taken, to text and queries
/// alike: lower-case when that is one character, and every whitespace character as a space.
/// It is applied character by character, so if `a` is a substring of `b` then the folded `a` is
/// a substring of the folded `b`: candidates from trigrams never miss a match.
#[inline]
pub fn fold_char(c: char) -> char {
    if c.is_whitespace() {
        return ' ';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// The distinct folded trigrams of `s`, in first-seen order.
pub fn trigrams(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().map(fold_char).collect();
    let mut out: Vec<String> = Vec::new();
    for w in chars.windows(3) {
        let t: String = w.iter().collect();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// tantivy tokenizer emitting every folded trigram of the text.
#[derive(Clone, Default)]
pub struct TrigramTokenizer {
    token: Token,
}

/// The token stream of [`TrigramTokenizer`] for tantivy.
pub struct TrigramTokenStream<'a> {
    chars: std::str::CharIndices<'a>,
    window: [(usize, char); 3],
    filled: usize,
    token: &'a mut Token,
    position: usize,
    text: &'a str,
}

impl Tokenizer for TrigramTokenizer {
    type TokenStream<'a> = TrigramTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TrigramTokenStream<'a> {
        self.token.reset();
        TrigramTokenStream {
            chars: text.char_indices(),
            window: [(0, ' '); 3],
            filled: 0,
            token: &mut self.token,
            position: 0,
            text,
        }
    }
}

impl TokenStream for TrigramTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let Some((i, c)) = self.chars.next() else {
                return false;
            };
            self.window = [self.window[1], self.window[2], (i, fold_char(c))];
            self.filled += 1;
            if self.filled < 3 {
                continue;
            }
            let start = self.window[0].0;
            let end = i + c.len_utf8();
            debug_assert!(end <= self.text.len());
            self.token.text.clear();
            for (_, ch) in self.window {
                self.token.text.push(ch);
            }
            self.token.offset_from = start;
            self.token.offset_to = end;
            self.token.position = self.position;
            self.position += 1;
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        code_tokens(s).map(|t| t.text).collect()
    }

    #[test]
    fn operators_are_single_character_tokens() {
        assert_eq!(toks("std::io"), ["std", ":", ":", "io"]);
        assert_eq!(
            toks("Vec<Vec<u8>>"),
            ["Vec", "<", "Vec", "<", "u8", ">", ">"]
        );
        assert_eq!(toks("&mut self"), ["&", "mut", "self"]);
        assert_eq!(
            toks("#[derive(Debug)]"),
            ["#", "[", "derive", "(", "Debug", ")", "]"]
        );
        assert_eq!(toks("a->b"), ["a", "-", ">", "b"]);
    }

    #[test]
    fn unicode_words_and_symbols() {
        assert_eq!(toks("变量 = 42;"), ["变量", "=", "42", ";"]);
        assert_eq!(toks("x🦀y"), ["x", "🦀", "y"]);
        // Zero-width space is not whitespace in Unicode: it is a symbol token.
        assert_eq!(toks("a\u{200B}b"), ["a", "\u{200B}", "b"]);
        assert_eq!(toks("  \r\n\t"), Vec::<&str>::new());
    }

    #[test]
    fn tantivy_stream_positions_are_consecutive() {
        let mut tok = CodeTokenizer::default();
        let mut s = tok.token_stream("use std::fmt;");
        let mut seen = Vec::new();
        while s.advance() {
            seen.push((s.token().text.clone(), s.token().position));
        }
        assert_eq!(seen.len(), 6);
        assert!(seen.iter().enumerate().all(|(i, (_, p))| *p == i));
    }

    #[test]
    fn trigram_stream_matches_trigram_fn() {
        let text = "Ab\tCdé";
        let mut tok = TrigramTokenizer::default();
        let mut s = tok.token_stream(text);
        let mut seen = Vec::new();
        while s.advance() {
            seen.push(s.token().text.clone());
        }
        assert_eq!(seen, trigrams(text));
        assert_eq!(seen, ["ab ", "b c", " cd", "cdé"]);
        assert!(trigrams("ab").is_empty());
    }
}
