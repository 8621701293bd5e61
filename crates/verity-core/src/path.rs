//! Corpus-relative paths as text, losslessly.
//!
//! Every crate names a file by its path relative to the corpus root, with `/` separators, as a
//! `String`: the engine's documents, the oracle's files, truth cases, reports and TREC files.
//! File names on Unix are bytes, not text, and two names that differ only in bytes that are
//! not UTF-8 (`a\xffb.txt`, `a\xfeb.txt`) must not become one (`to_string_lossy` made both
//! `a�b.txt`).
//!
//! The text form ([`from_bytes`]) is the path itself when it is UTF-8, which is every path in
//! practice; each byte of an invalid sequence becomes a NUL character followed by the byte in
//! two lowercase hex digits. No file name holds a NUL, so the form is one-to-one, and
//! [`to_bytes`] turns it back. For people, [`display`] shows those bytes as U+FFFD.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// The marker of an escaped byte: no file name can contain it.
const ESCAPE: char = '\0';

/// The text form of a path's bytes (see the module documentation).
pub fn from_bytes(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push(ESCAPE);
                    out.push_str(&format!("{b:02x}"));
                }
            }
            Cow::Owned(out)
        }
    }
}

/// The bytes a text form stands for: the inverse of [`from_bytes`]. A NUL not followed by two
/// hex digits (which [`from_bytes`] never writes) is kept as it is.
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.contains(ESCAPE) {
        return Cow::Borrowed(text.as_bytes());
    }
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0 && i + 3 <= b.len() {
            if let Some(byte) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// The corpus-relative text form of `path` under `root`: its components joined with `/`, each
/// in the form of [`from_bytes`].
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for c in rel.components() {
        if let Component::Normal(name) = c {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&from_bytes(os_bytes(name)));
        }
    }
    out
}

/// The file a corpus-relative text form names under `root`.
pub fn under(root: &Path, text: &str) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in text.split('/') {
        p.push(os_str(&to_bytes(part)));
    }
    p
}

/// A text form for people: escaped bytes are shown as U+FFFD, as `to_string_lossy` would.
pub fn display(text: &str) -> Cow<'_, str> {
    if !text.contains(ESCAPE) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(String::from_utf8_lossy(&to_bytes(text)).into_owned())
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> &[u8] {
    std::os::unix::ffi::OsStrExt::as_bytes(s)
}

#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> &[u8] {
    // Elsewhere names are Unicode (WTF-8 for unpaired surrogates on Windows).
    s.as_encoded_bytes()
}

#[cfg(unix)]
fn os_str(b: &[u8]) -> std::ffi::OsString {
    <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b).to_owned()
}

#[cfg(not(unix))]
fn os_str(b: &[u8]) -> std::ffi::OsString {
    String::from_utf8_lossy(b).into_owned().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_paths_are_themselves() {
        for p in [
            "src/lib.rs",
            "変数/関数.rs",
            "a\\xffb.txt",
            "weird name%41.rs",
            "",
        ] {
            assert_eq!(from_bytes(p.as_bytes()), p);
            assert_eq!(to_bytes(p), p.as_bytes());
            assert_eq!(display(p), p);
        }
    }

    #[test]
    fn invalid_bytes_are_distinct_and_come_back() {
        let a = from_bytes(b"a\xffb.txt").into_owned();
        let b = from_bytes(b"a\xfeb.txt").into_owned();
        assert_ne!(a, b);
        assert_eq!(a, "a\0ffb.txt");
        assert_eq!(to_bytes(&a), &b"a\xffb.txt"[..]);
        assert_eq!(to_bytes(&b), &b"a\xfeb.txt"[..]);
        assert_eq!(display(&a), "a\u{FFFD}b.txt");
        // A truncated multi-byte sequence: each byte escaped.
        let t = from_bytes(b"x\xe6\x97.rs").into_owned();
        assert_eq!(to_bytes(&t), &b"x\xe6\x97.rs"[..]);
    }

    #[cfg(unix)]
    #[test]
    fn relative_and_under_round_trip() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new("/corpus");
        let file = root.join(std::ffi::OsStr::from_bytes(b"d\xff/x\xfe.rs"));
        let text = relative(root, &file);
        assert_eq!(text, "d\0ff/x\0fe.rs");
        assert_eq!(under(root, &text), file);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_round_trip(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let bytes: Vec<u8> = bytes.into_iter().filter(|b| *b != 0).collect();
            let text = from_bytes(&bytes).into_owned();
            proptest::prop_assert_eq!(to_bytes(&text).into_owned(), bytes);
        }
    }
}
