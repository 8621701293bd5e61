//! Positions inside a ground-truth JSON file, so that problems found after parsing (duplicate
//! ids, bad paths, contradictions) can name the line and column, not just the case.
//!
//! serde_json keeps no spans, so this is a small scanner over text serde_json already accepted:
//! it records where each case starts, where each of its keys is, and where each element of its
//! array values is.

use std::collections::HashMap;

/// Where things are in one case object.
#[derive(Debug, Default, Clone)]
pub struct CaseSpans {
    pub start: usize,
    /// Key → (offset of the key, offsets of the elements when the value is an array or object).
    pub keys: HashMap<String, (usize, Vec<usize>)>,
}

/// Where things are in a dataset file.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    pub root_keys: HashMap<String, usize>,
    pub cases: Vec<CaseSpans>,
}

impl Spans {
    /// Offset of `case[index].field[element]`, falling back to the field, then the case.
    pub fn offset(&self, case: usize, field: Option<&str>, element: Option<usize>) -> usize {
        let Some(c) = self.cases.get(case) else {
            return 0;
        };
        let Some((key_at, elems)) = field.and_then(|f| c.keys.get(f)) else {
            return c.start;
        };
        element
            .and_then(|e| elems.get(e).copied())
            .unwrap_or(*key_at)
    }
}

/// 1-based (line, column) of a byte offset; the column counts characters.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1; // opening quote
        while self.i < self.s.len() && self.s[self.i] != b'"' {
            if self.s[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i += 1; // closing quote
        let raw = &self.s[start..self.i.min(self.s.len())];
        serde_json::from_slice(raw).unwrap_or_default()
    }

    /// Skips one value; returns the offsets of its direct elements (array items or object keys).
    fn value(&mut self) -> Vec<usize> {
        self.ws();
        let mut elems = Vec::new();
        match self.s.get(self.i) {
            Some(b'"') => {
                self.string();
            }
            Some(b'[') => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b']') || self.i >= self.s.len() {
                        self.i += 1;
                        break;
                    }
                    elems.push(self.i);
                    self.value();
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') || self.i >= self.s.len() {
                        self.i += 1;
                        break;
                    }
                    elems.push(self.i);
                    self.string();
                    self.ws();
                    self.i += 1; // colon
                    self.value();
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            _ => {
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b']' | b'}') {
                    self.i += 1;
                }
            }
        }
        elems
    }

    /// Reads an object, calling `on_key(key, key_offset, scanner)` to consume each value.
    fn object(&mut self, mut on_key: impl FnMut(String, usize, &mut Self)) {
        self.ws();
        if self.s.get(self.i) != Some(&b'{') {
            self.value();
            return;
        }
        self.i += 1;
        loop {
            self.ws();
            if self.s.get(self.i) == Some(&b'}') || self.i >= self.s.len() {
                self.i += 1;
                return;
            }
            let at = self.i;
            let key = self.string();
            self.ws();
            self.i += 1; // colon
            self.ws();
            on_key(key, at, self);
            self.ws();
            if self.s.get(self.i) == Some(&b',') {
                self.i += 1;
            }
        }
    }
}

/// Scans a dataset file that serde_json accepted.
pub fn spans(text: &str) -> Spans {
    let mut sc = Scanner {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Spans::default();
    sc.object(|key, at, sc| {
        if key == "cases" && sc.s.get(sc.i) == Some(&b'[') {
            sc.i += 1;
            loop {
                sc.ws();
                if sc.s.get(sc.i) == Some(&b']') || sc.i >= sc.s.len() {
                    sc.i += 1;
                    break;
                }
                let mut case = CaseSpans {
                    start: sc.i,
                    ..Default::default()
                };
                sc.object(|k, kat, sc| {
                    let elems = sc.value();
                    case.keys.insert(k, (kat, elems));
                });
                out.cases.push(case);
                sc.ws();
                if sc.s.get(sc.i) == Some(&b',') {
                    sc.i += 1;
                }
            }
        } else {
            sc.value();
        }
        out.root_keys.insert(key, at);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cases_keys_and_elements() {
        let text = "{\n  \"format_version\": 1,\n  \"cases\": [\n    {\"id\": \"a\", \"expected_files\": [\"x\", \"y\"]},\n    {\"id\": \"b\\\"q\", \"tags\": {\"k\": [1]}}\n  ]\n}";
        let s = spans(text);
        assert_eq!(s.cases.len(), 2);
        assert_eq!(line_col(text, s.root_keys["format_version"]), (2, 3));
        assert_eq!(line_col(text, s.cases[0].start), (4, 5));
        assert_eq!(
            line_col(text, s.offset(0, Some("expected_files"), Some(1))),
            (4, 41)
        );
        assert_eq!(line_col(text, s.offset(1, Some("id"), None)), (5, 6));
        assert_eq!(line_col(text, s.offset(1, Some("nope"), None)), (5, 5));
    }
}
