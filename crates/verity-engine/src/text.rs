//! How raw file bytes become searchable text.
//!
//! Every query is answered against the *text* of a file, which this module defines once so the
//! index, the verifier and the documentation agree (docs/query-language.md, "Files and text"):
//!
//! * a file that contains a NUL byte anywhere is binary and is not indexed;
//! * a leading UTF-8 byte-order mark is removed (as ripgrep does), so `^` anchors see line 1;
//! * bytes that are not valid UTF-8 are replaced by U+FFFD, one per maximal invalid sequence
//!   (`String::from_utf8_lossy`); the file is still indexed and counted as lossily decoded;
//! * lines are separated by `\n` only; a `\r` before it stays part of the line (as in ripgrep
//!   without `--crlf`), but is trimmed from the line text that results display.

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why raw bytes could not be turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecodable {
    /// The bytes contain a NUL byte.
    Binary,
}

/// Text decoded from a file, and whether decoding had to replace invalid bytes.
#[derive(Debug, Clone)]
pub struct DecodedText {
    /// The decoded text.
    pub text: String,
    /// Invalid bytes were replaced with U+FFFD.
    pub lossy: bool,
}

/// Decodes file bytes according to the rules above.
pub fn decode(bytes: &[u8]) -> Result<DecodedText, Undecodable> {
    decode_owned(bytes.to_vec())
}

/// [`decode`], taking the bytes: valid UTF-8 becomes the text without a copy.
pub fn decode_owned(mut bytes: Vec<u8>) -> Result<DecodedText, Undecodable> {
    if memchr::memchr(0, &bytes).is_some() {
        return Err(Undecodable::Binary);
    }
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    // `from_utf8` checks whole words of ASCII at a time, where the lossy decoder walks byte by
    // byte (it was most of the time a candidate's check took), so valid text goes that way.
    match String::from_utf8(bytes) {
        Ok(text) => Ok(DecodedText { text, lossy: false }),
        Err(e) => Ok(DecodedText {
            text: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            lossy: true,
        }),
    }
}

/// [`decode`], borrowing the bytes: valid UTF-8 is the text in place (after the byte-order
/// mark), so a caller can read file after file into one buffer without copying any.
pub fn decode_borrowed(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, Undecodable> {
    if memchr::memchr(0, bytes).is_some() {
        return Err(Undecodable::Binary);
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Validation first, for the reason `decode_owned` gives (simdutf8: 32 bytes a step).
    Ok(match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    })
}

/// Byte offsets where each line of a text starts; line numbers are 1-based.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// The line starts of `text`.
    pub fn new(text: &str) -> Self {
        // An empty text has no lines at all (as in ripgrep: `^$` does not match an empty file).
        if text.is_empty() {
            return LineIndex {
                starts: Vec::new(),
                len: 0,
            };
        }
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        // A final "\n" ends the last line; it does not start an empty one.
        let mut len = text.len();
        if starts.len() > 1 && *starts.last().unwrap() == text.len() {
            starts.pop();
            len -= 1;
        }
        LineIndex { starts, len }
    }

    /// Number of lines (an empty text has none; a final `\n` does not start a line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 1-based line number containing byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte range of 1-based line `line`, without its `\n`. `line` must be in range.
    pub fn span(&self, line: usize, text: &str) -> std::ops::Range<usize> {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).map(|s| s - 1).unwrap_or(self.len);
        debug_assert!(end <= text.len());
        start..end
    }
}

/// The display form of a line: without a trailing `\r`.
pub fn display_line(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Borrowed and owned decoding are one set of rules.
        #[test]
        fn borrowed_decoding_is_owned_decoding(
            body in proptest::collection::vec(any::<u8>(), 0..64),
            bom in any::<bool>(),
        ) {
            let bytes = if bom { [BOM, &body].concat() } else { body };
            let owned = decode_owned(bytes.clone()).map(|d| d.text);
            let borrowed = decode_borrowed(&bytes).map(|t| t.into_owned());
            prop_assert_eq!(owned, borrowed);
        }
    }

    #[test]
    fn nul_anywhere_is_binary() {
        assert_eq!(decode(b"abc\0def").unwrap_err(), Undecodable::Binary);
        let mut big = vec![b'a'; 100_000];
        big.push(0);
        assert!(decode(&big).is_err());
    }

    #[test]
    fn bom_is_stripped_and_invalid_bytes_replaced() {
        let d = decode(b"\xEF\xBB\xBFfn main() {}").unwrap();
        assert_eq!(d.text, "fn main() {}");
        assert!(!d.lossy);
        let d = decode(b"caf\xE9 ok").unwrap();
        assert_eq!(d.text, "caf\u{FFFD} ok");
        assert!(d.lossy);
    }

    #[test]
    fn line_index_counts_lines_like_editors() {
        let t = "a\nbb\r\nccc";
        let li = LineIndex::new(t);
        assert_eq!(li.line_count(), 3);
        assert_eq!(li.line_of(0), 1);
        assert_eq!(li.line_of(2), 2);
        assert_eq!(&t[li.span(2, t)], "bb\r");
        assert_eq!(display_line(&t[li.span(2, t)]), "bb");
        assert_eq!(&t[li.span(3, t)], "ccc");
        let t = "x\n";
        let li = LineIndex::new(t);
        assert_eq!(li.line_count(), 1);
        assert_eq!(&t[li.span(1, t)], "x");
        assert_eq!(LineIndex::new("").line_count(), 0);
        let t = "\n";
        assert_eq!(LineIndex::new(t).line_count(), 1);
        assert_eq!(&t[LineIndex::new(t).span(1, t)], "");
    }
}
