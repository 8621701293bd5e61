//! How the engine cuts text: code tokens for the word index, folded trigrams for the trigram
//! index.
//!
//! * [`code_tokens`] splits text into *code tokens*: a maximal run of word characters
//!   (`_` or any Unicode alphanumeric, `char::is_alphanumeric`) is one token, and every other
//!   character that is not whitespace is a token of its own. So `std::io` is `std`, `:`, `:`,
//!   `io` and `Vec<Vec<u8>>` ends in `>`, `>`: splitting operators into single characters is what
//!   keeps generics such as `Vec<u8>>` searchable as `Vec<u8>`. Tokens keep their case. Phrase and
//!   proximity queries are defined over these tokens (docs/query-language.md).
//!   The index keeps the *word* tokens only, numbered by words: symbols are more than half of
//!   the tokens of code and say little on their own, so a phrase's candidates come from its
//!   words at their word offsets, a proximity query's from its words within the distance, and
//!   the verifier checks the symbols.
//! * [`TrigramScanner`] finds every distinct window of three characters after [`fold_char`]; the
//!   trigram index (`crate::trigram_index`) only narrows the candidate files, which are then
//!   verified against the stored text.

/// Word tokens longer than this many bytes are not put in the word index (such tokens are
/// minified data, not code), nor counted in a file's length.
/// Queries that need one fall back to trigram candidates, so results stay exact.
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

/// The byte ranges of the *word* tokens of `text`, in order: what
/// `code_tokens(text).filter(|t| t.is_word)` gives, without stopping at each symbol. A word
/// token is a maximal run of word characters, so the symbols and whitespace between words
/// are skipped a byte at a time. The word index reads every file this way.
pub fn word_spans(text: &str) -> WordSpans<'_> {
    WordSpans { text, pos: 0 }
}

/// Iterator returned by [`word_spans`].
pub struct WordSpans<'a> {
    text: &'a str,
    pos: usize,
}

/// Per byte: 1 for an ASCII word character, 0 for any other ASCII byte, 2 for a byte of a
/// character outside ASCII, which is decoded and asked ([`is_word_char`]). [`word_spans`]
/// walks runs of 0s and of 1s a byte at a time with one lookup each.
const WORD_BYTE: [u8; 256] = {
    let mut t = [2u8; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = matches!(ASCII[b], Ascii::Word) as u8;
        b += 1;
    }
    t
};

impl WordSpans<'_> {
    /// The character at byte `i`, a char boundary where [`WORD_BYTE`] says 2.
    #[inline]
    fn char_at(&self, i: usize) -> char {
        self.text[i..]
            .chars()
            .next()
            .expect("a character starts at a byte marked 2")
    }
}

impl Iterator for WordSpans<'_> {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let mut start = self.pos;
        // To the next word character.
        loop {
            while let Some(&b) = bytes.get(start) {
                if WORD_BYTE[b as usize] != 0 {
                    break;
                }
                start += 1;
            }
            let Some(&b) = bytes.get(start) else {
                self.pos = start;
                return None;
            };
            if WORD_BYTE[b as usize] == 1 {
                break;
            }
            let c = self.char_at(start);
            if is_word_char(c) {
                break;
            }
            start += c.len_utf8();
        }
        // To its end: the next character that is not one.
        let mut end = start;
        loop {
            while let Some(&b) = bytes.get(end) {
                if WORD_BYTE[b as usize] != 1 {
                    break;
                }
                end += 1;
            }
            match bytes.get(end) {
                Some(&b) if WORD_BYTE[b as usize] == 2 => {
                    let c = self.char_at(end);
                    if !is_word_char(c) {
                        break;
                    }
                    end += c.len_utf8();
                }
                _ => break,
            }
        }
        self.pos = end;
        Some((start, end))
    }
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

/// What an ASCII byte is to the tokenizer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ascii {
    Space,
    Word,
    Symbol,
}

/// [`Ascii`] of every byte below 128, by the same rules as `char::is_whitespace` and
/// [`is_word_char`] (a test checks all 128): code is mostly ASCII, and a table lookup per byte
/// is several times cheaper than decoding a `char` and asking Unicode about it.
const ASCII: [Ascii; 128] = {
    let mut t = [Ascii::Symbol; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if matches!(c, b' ' | b'\t'..=b'\r') {
            Ascii::Space
        } else if c == b'_' || c.is_ascii_alphanumeric() {
            Ascii::Word
        } else {
            Ascii::Symbol
        };
        b += 1;
    }
    t
};

impl<'a> CodeTokens<'a> {
    /// The character at byte `i` (a char boundary): whether it is whitespace or a word
    /// character, and its length in bytes. `None` at the end.
    #[inline(always)]
    fn class_at(&self, i: usize) -> Option<(Ascii, usize)> {
        let b = *self.text.as_bytes().get(i)?;
        if b < 128 {
            return Some((ASCII[b as usize], 1));
        }
        let c = self.text[i..].chars().next()?;
        let class = if c.is_whitespace() {
            Ascii::Space
        } else if is_word_char(c) {
            Ascii::Word
        } else {
            Ascii::Symbol
        };
        Some((class, c.len_utf8()))
    }
}

impl<'a> Iterator for CodeTokens<'a> {
    type Item = CodeToken<'a>;

    fn next(&mut self) -> Option<CodeToken<'a>> {
        let mut start = self.pos;
        // Skip whitespace.
        let (first, len) = loop {
            let (class, len) = self.class_at(start)?;
            if class != Ascii::Space {
                break (class, len);
            }
            start += len;
        };
        let is_word = first == Ascii::Word;
        let mut end = start + len;
        if is_word {
            while let Some((Ascii::Word, len)) = self.class_at(end) {
                end += len;
            }
        }
        self.pos = end;
        Some(CodeToken {
            text: &self.text[start..end],
            start,
            end,
            is_word,
        })
    }
}

/// The per-character normalisation applied before trigrams are taken, to text and queries
/// alike: lower-case when that is one character, and every whitespace character as a space.
/// It is applied character by character, so if `a` is a substring of `b` then the folded `a` is
/// a substring of the folded `b`: candidates from trigrams never miss a match.
#[inline]
pub fn fold_char(c: char) -> char {
    // ASCII first: nearly every character of code, and the whole cost of indexing trigrams.
    // The ASCII characters that are Unicode white space are `\t`..=`\r` and the space.
    if c.is_ascii() {
        return match c {
            '\t'..='\r' => ' ',
            _ => c.to_ascii_lowercase(),
        };
    }
    if c.is_whitespace() {
        return ' ';
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// [`fold_char`] of every ASCII character, by byte.
const ASCII_FOLD: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'\t'..=b'\r' => b' ',
            c => c.to_ascii_lowercase(),
        };
        b += 1;
    }
    t
};

/// The distinct folded trigrams of `s`, in first-seen order.
///
/// The plain definition, used for queries; [`TrigramScanner`] computes the same list faster
/// for whole files, and is tested against this one.
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

/// The key of a folded trigram in the trigram index (`crate::trigram_index`): its three
/// code points, 21 bits each, the first highest, so keys sort as the trigrams do.
#[inline]
pub fn trigram_key(t: [char; 3]) -> u64 {
    (u64::from(t[0]) << 42) | (u64::from(t[1]) << 21) | u64::from(t[2])
}

/// Where an all-ASCII trigram's key goes in a table of 2^21 slots (7 bits a character);
/// `None` for a trigram with a character outside ASCII.
#[inline]
pub fn ascii_trigram_slot(key: u64) -> Option<usize> {
    const ASCII_ONLY: u64 = (0x7f << 42) | (0x7f << 21) | 0x7f;
    (key & !ASCII_ONLY == 0)
        .then_some((((key >> 42) << 14) | (((key >> 21) & 0x7f) << 7) | (key & 0x7f)) as usize)
}

/// The keys of [`trigrams`]`(s)`, in the same order.
pub fn trigram_keys(s: &str) -> Vec<u64> {
    trigrams(s)
        .iter()
        .map(|t| {
            let mut c = t.chars();
            let t = [(); 3].map(|_| c.next().expect("a trigram has three characters"));
            trigram_key(t)
        })
        .collect()
}

/// The key of the all-ASCII trigram in `slot` of a table of 2^21 ([`ascii_trigram_slot`]).
#[inline(always)]
fn slot_key(slot: usize) -> u64 {
    let slot = slot as u64;
    ((slot >> 14) << 42) | (((slot >> 7) & 0x7f) << 21) | (slot & 0x7f)
}

/// Which trigrams a text has shown already.
///
/// The trigram index records only which texts hold a trigram, so a trigram is worth
/// recording once per text; a file of code has several times fewer distinct trigrams than
/// characters.
#[derive(Default)]
struct SeenTrigrams {
    /// One bit per all-ASCII trigram (7 bits a character, 2^21 bits); allocated at first use.
    ascii: Vec<u64>,
    /// Trigrams with a character outside ASCII.
    other: std::collections::HashSet<u64>,
}

impl SeenTrigrams {
    const ASCII_WORDS: usize = (1 << 21) / 64;

    /// Forgets the ASCII trigrams of `seen` (every key inserted since the last reset) and the
    /// rest, in time proportional to them rather than to the bitmap.
    fn reset(&mut self, seen: &[u64]) {
        for &k in seen {
            if let Some(bit) = ascii_trigram_slot(k) {
                self.ascii[bit / 64] = 0;
            }
        }
        self.other.clear();
    }
}

/// Finds the distinct folded trigrams of whole files, as keys ([`trigram_key`]), in
/// first-seen order: the list [`trigram_keys`] defines, without a `String` per window.
/// Reused from file to file (its bitmap is 256 KiB).
#[derive(Default)]
pub struct TrigramScanner {
    seen: SeenTrigrams,
    distinct: Vec<u64>,
}

impl TrigramScanner {
    /// The distinct trigram keys of `text`, in first-seen order.
    pub fn scan(&mut self, text: &str) -> &[u64] {
        self.distinct.clear();
        if self.seen.ascii.is_empty() {
            self.seen.ascii = vec![0; SeenTrigrams::ASCII_WORDS];
        }
        // Borrowed apart, so the loop keeps them in registers instead of reloading them
        // through `self` after every push.
        let (ascii, other, distinct) = (
            self.seen.ascii.as_mut_slice(),
            &mut self.seen.other,
            &mut self.distinct,
        );
        // The key of the last three characters, rolled one character (21 bits) at a time;
        // ASCII bytes are folded by table, the rest by `fold_char`. This loop is most of the
        // trigram index's build time, so runs of ASCII, most of code, take a path of their
        // own below.
        const KEY_BITS: u64 = (1 << 63) - 1;
        // A key's last two characters, when both are ASCII.
        const LAST_TWO_NON_ASCII: u64 = ((1 << 42) - 1) & !((0x7f << 21) | 0x7f);
        let bytes = text.as_bytes();
        let (mut key, mut filled, mut i) = (0u64, 0u8, 0usize);
        while i < bytes.len() {
            if filled == 2 && key & LAST_TWO_NON_ASCII == 0 && bytes[i] < 0x80 {
                // The window is all ASCII until a byte is not: the trigram's slot in the
                // bitmap rolls 7 bits a character. Every trigram's key is stored at the end
                // of the list and counted in when it is new: no branch on a bit that is
                // hard to predict.
                let mut slot = ((((key >> 21) & 0x7f) << 7) | (key & 0x7f)) as usize;
                let mut n = distinct.len();
                while let Some(&b @ 0..0x80) = bytes.get(i) {
                    i += 1;
                    slot = ((slot << 7) | usize::from(ASCII_FOLD[b as usize])) & ((1 << 21) - 1);
                    let (word, mask) = (&mut ascii[slot / 64], 1u64 << (slot % 64));
                    let new = *word & mask == 0;
                    *word |= mask;
                    if n == distinct.len() {
                        distinct.resize(n + 256, 0);
                    }
                    distinct[n] = slot_key(slot);
                    n += usize::from(new);
                }
                distinct.truncate(n);
                key = slot_key(slot);
                continue;
            }
            let c = match bytes[i] {
                b @ 0..0x80 => {
                    i += 1;
                    u64::from(ASCII_FOLD[b as usize])
                }
                _ => {
                    let c = text[i..]
                        .chars()
                        .next()
                        .expect("i is on a character boundary");
                    i += c.len_utf8();
                    u64::from(fold_char(c))
                }
            };
            key = ((key << 21) | c) & KEY_BITS;
            if filled < 2 {
                filled += 1;
                continue;
            }
            let new = match ascii_trigram_slot(key) {
                Some(bit) => {
                    let (word, mask) = (&mut ascii[bit / 64], 1u64 << (bit % 64));
                    let new = *word & mask == 0;
                    *word |= mask;
                    new
                }
                None => other.insert(key),
            };
            if new {
                distinct.push(key);
            }
        }
        self.seen.reset(&self.distinct);
        &self.distinct
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
    fn trigram_scanner_matches_trigram_fn() {
        let text = "Ab\tCdé";
        assert_eq!(trigrams(text), ["ab ", "b c", " cd", "cdé"]);
        assert_eq!(TrigramScanner::default().scan(text), trigram_keys(text));
        assert_eq!(trigram_keys(text)[0], trigram_key(['a', 'b', ' ']));
        assert!(trigrams("ab").is_empty());
    }

    fn scan(scanner: &mut TrigramScanner, text: &str) -> Vec<u64> {
        scanner.scan(text).to_vec()
    }

    #[test]
    fn the_scanner_finds_each_trigram_once_per_text() {
        let mut sc = TrigramScanner::default();
        let keys = |ts: &[&str]| -> Vec<u64> { ts.iter().flat_map(|t| trigram_keys(t)).collect() };
        assert_eq!(scan(&mut sc, "abcabcABC"), keys(&["abc", "bca", "cab"]));
        assert_eq!(scan(&mut sc, "ééééé"), keys(&["ééé"]));
        // The next text starts afresh: nothing is remembered from the one before.
        assert_eq!(scan(&mut sc, "abcé"), keys(&["abc", "bcé"]));
    }

    #[test]
    fn keys_sort_as_trigrams_do() {
        let mut ts = ["abc", "ab\u{10ffff}", "\u{10ffff}aa", "b  ", "é€𝔸", "zzz"].map(String::from);
        let mut keys: Vec<u64> = ts.iter().map(|t| trigram_keys(t)[0]).collect();
        ts.sort();
        keys.sort();
        let sorted: Vec<u64> = ts.iter().map(|t| trigram_keys(t)[0]).collect();
        assert_eq!(keys, sorted);
        assert!(keys.iter().all(|k| k >> 63 == 0));
    }

    #[test]
    fn ascii_fold_agrees_with_the_unicode_rules() {
        for b in 0u8..128 {
            let c = b as char;
            let unicode = if c.is_whitespace() {
                ' '
            } else {
                c.to_lowercase().next().unwrap()
            };
            assert_eq!(fold_char(c), unicode, "{b:#x}");
            assert_eq!(ASCII_FOLD[b as usize] as char, unicode, "{b:#x}");
        }
    }

    /// The tokenizer's definition, one `char` at a time: what the ASCII table must agree with.
    fn reference_tokens(text: &str) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            let mut end = i + c.len_utf8();
            if is_word_char(c) {
                while let Some(&(j, d)) = chars.peek() {
                    if !is_word_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
            }
            out.push((i, end, is_word_char(c)));
        }
        out
    }

    fn fast_tokens(text: &str) -> Vec<(usize, usize, bool)> {
        code_tokens(text)
            .map(|t| (t.start, t.end, t.is_word))
            .collect()
    }

    #[test]
    fn the_ascii_table_agrees_with_the_unicode_rules() {
        for b in 0u8..128 {
            let s = format!("a{}b", b as char);
            assert_eq!(fast_tokens(&s), reference_tokens(&s), "byte {b}");
        }
    }

    proptest::proptest! {
        #[test]
        fn code_tokens_are_the_reference_tokens(
            text in "[a-zA-Z0-9_ \t\n\r\u{b}\u{c}\u{1c}:<>&!(){}\\-é€𝔸ǅ\u{85}\u{a0}\u{2028}\u{3000}٣]{0,60}"
        ) {
            proptest::prop_assert_eq!(fast_tokens(&text), reference_tokens(&text));
        }
    }

    proptest::proptest! {
        #[test]
        fn word_spans_are_the_word_tokens(
            text in "[a-zA-Z0-9_ \t\n\r\u{b}\u{c}\u{1c}:<>&!(){}\\-é€𝔸ǅ\u{85}\u{a0}\u{2028}\u{3000}٣]{0,60}"
        ) {
            let words: Vec<(usize, usize)> = code_tokens(&text)
                .filter(|t| t.is_word)
                .map(|t| (t.start, t.end))
                .collect();
            proptest::prop_assert_eq!(word_spans(&text).collect::<Vec<_>>(), words);
        }
    }

    proptest::proptest! {
        /// The tokenizer's fast path (a bitmap, reused from document to document) gives the
        /// list the plain definition gives, document after document.
        #[test]
        fn the_scanner_finds_the_distinct_trigrams(
            docs in proptest::collection::vec("[a-cA-C \t\n\u{b}é€𝔸ǅ]{0,40}", 1..6)
        ) {
            let mut sc = TrigramScanner::default();
            for d in &docs {
                proptest::prop_assert_eq!(scan(&mut sc, d), trigram_keys(d));
            }
        }
    }
}
