//! Exact verification of a query against one file's text.
//!
//! Candidates come from the index; the answer comes from here. Each [`Query`] node is compiled
//! once into a [`Matcher`] that decides, for a file's text, whether it matches and on which
//! lines, following docs/query-language.md to the letter.

use std::cell::OnceCell;

use memchr::memmem;
use regex::Regex;

use crate::deadline::{Deadline, Interrupted};
use crate::query::{Query, QueryError};
use crate::text::LineIndex;
use crate::tokenizer::{code_tokens, is_word_char};

/// How often (in lines or tokens) long loops look at the deadline.
const CHECK_EVERY: usize = 4096;

/// The character class of word characters, as a regex fragment.
const WORD_CLASS: &str = r"\p{Alphabetic}\p{N}_";

/// A file's text with lazily computed line starts and code tokens.
pub struct FileText<'a> {
    text: &'a str,
    lines: OnceCell<LineIndex>,
    tokens: OnceCell<Tokens>,
}

/// The code tokens of a text, and how many word tokens precede each token.
struct Tokens {
    spans: Vec<(usize, usize)>,
    /// `words_before[i]` = number of word tokens among tokens `0..i`; one longer than `spans`.
    words_before: Vec<u32>,
}

impl<'a> FileText<'a> {
    /// The text of one file, with its lines and tokens computed on first use.
    pub fn new(text: &'a str) -> Self {
        FileText {
            text,
            lines: OnceCell::new(),
            tokens: OnceCell::new(),
        }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Where each line starts (computed once).
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(self.text))
    }

    fn tokens(&self) -> &Tokens {
        self.tokens.get_or_init(|| {
            let mut spans = Vec::new();
            let mut words_before = vec![0u32];
            let mut words = 0u32;
            for t in code_tokens(self.text) {
                spans.push((t.start, t.end));
                words += u32::from(t.is_word);
                words_before.push(words);
            }
            Tokens {
                spans,
                words_before,
            }
        })
    }

    fn token_text(&self, i: usize) -> &'a str {
        let (s, e) = self.tokens().spans[i];
        &self.text[s..e]
    }

    /// Adds the 1-based lines covered by byte range `start..end` to `out`.
    fn push_span_lines(&self, start: usize, end: usize, out: &mut Vec<usize>) {
        let li = self.lines();
        let first = li.line_of(start);
        let last = li.line_of(end.saturating_sub(1).max(start));
        out.extend(first..=last);
    }
}

/// A compiled query.
///
/// A clone shares the compiled regexes but not their search caches: a thread verifying with
/// its own clone never waits for another's cache (the regex crate's shared pool made two
/// threads contend at every line).
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A literal, found with memchr's `memmem`.
    Literal(Box<memmem::Finder<'static>>),
    /// Wildcards and regexes are both line-oriented regexes once compiled.
    Line(LineRegex),
    /// A sequence of code tokens, whitespace-insensitive, across lines.
    Phrase(Vec<String>),
    /// Two token sequences at most `distance` word tokens apart, in either order.
    Near {
        /// The first sequence.
        left: Vec<String>,
        /// The second sequence.
        right: Vec<String>,
        /// The most word tokens between them.
        distance: u32,
    },
    /// Every operand matches.
    And(Vec<Matcher>),
    /// At least one operand matches.
    Or(Vec<Matcher>),
    /// The operand does not match.
    Not(Box<Matcher>),
}

/// Translates a wildcard pattern into a line regex: whole words, `*` any run of word characters,
/// `?` one word character, a run of whitespace one or more whitespace characters.
///
/// The words themselves are capture group 1 (the boundary characters around them are not), so
/// that highlighting can show the word alone.
pub fn wildcard_regex(pattern: &str) -> String {
    let mut re = format!("(?:^|[^{WORD_CLASS}])(");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(&format!("[{WORD_CLASS}]*")),
            '?' => re.push_str(&format!("[{WORD_CLASS}]")),
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                re.push_str(r"\s+");
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push_str(&format!(")(?:[^{WORD_CLASS}]|$)"));
    re
}

/// A regex applied to each line, with an optional whole-text prefilter.
#[derive(Debug, Clone)]
pub struct LineRegex {
    line: Regex,
    /// The same pattern in multi-line mode over the whole text. Any per-line match is also a
    /// match of this one (`^`/`$` match at line breaks, and the character before or after a
    /// line is `\n`, a non-word character, as for a line's edges), so when it finds nothing
    /// there is no matching line. Unsound only with `\A`/`\z`, so absent for those patterns.
    whole: Option<Regex>,
    /// The capture group that is the match proper, for highlighting: 1 for a wildcard (whose
    /// regex also matches the boundary characters around the word), 0 otherwise.
    group: usize,
}

fn compile_regex(pattern: &str) -> Result<LineRegex, QueryError> {
    let err = |e: regex::Error| QueryError::new(1, format!("invalid regular expression: {e}"));
    let line = Regex::new(pattern).map_err(err)?;
    // Parsed as the whole-text regex is compiled, in multi-line mode: there `^` and `$` are
    // line anchors, as they are for a line on its own, and only `\A`, `\z` and `(?-m)`
    // anchors are the text's. (Parsed without it, every `^` and `$`, and so every wildcard,
    // went without the prefilter and was matched line by line.)
    let parsed = regex_syntax::ParserBuilder::new()
        .multi_line(true)
        .build()
        .parse(pattern);
    let whole = match parsed {
        Ok(hir) if !has_text_anchor(&hir) => regex::RegexBuilder::new(pattern)
            .multi_line(true)
            .build()
            .ok(),
        _ => None,
    };
    Ok(LineRegex {
        line,
        whole,
        group: 0,
    })
}

/// Does the pattern (parsed in multi-line mode) use `\A` or `\z`, or `^`/`$` with multi-line
/// mode turned off by `(?-m)`?
fn has_text_anchor(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    match hir.kind() {
        HirKind::Look(Look::Start | Look::End) => true,
        HirKind::Capture(c) => has_text_anchor(&c.sub),
        HirKind::Repetition(r) => has_text_anchor(&r.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().any(has_text_anchor),
        _ => false,
    }
}

impl Matcher {
    /// Compiles a parsed query: an invalid regex or wildcard is a [`QueryError`].
    pub fn compile(query: &Query) -> Result<Matcher, QueryError> {
        Ok(match query {
            Query::Literal(s) => {
                Matcher::Literal(Box::new(memmem::Finder::new(s.as_bytes()).into_owned()))
            }
            Query::Wildcard(p) => Matcher::Line(LineRegex {
                group: 1,
                ..compile_regex(&wildcard_regex(p))?
            }),
            Query::Regex(p) => Matcher::Line(compile_regex(p)?),
            Query::Phrase(t) => Matcher::Phrase(t.clone()),
            Query::Near {
                left,
                right,
                distance,
            } => Matcher::Near {
                left: left.clone(),
                right: right.clone(),
                distance: *distance,
            },
            Query::And(qs) => {
                Matcher::And(qs.iter().map(Matcher::compile).collect::<Result<_, _>>()?)
            }
            Query::Or(qs) => {
                Matcher::Or(qs.iter().map(Matcher::compile).collect::<Result<_, _>>()?)
            }
            Query::Not(q) => Matcher::Not(Box::new(Matcher::compile(q)?)),
        })
    }

    /// Does the file match? `Some(lines)` with its sorted, distinct 1-based matching lines if it
    /// does (empty for a file that matches only by what it lacks), `None` if it does not.
    pub fn matches(
        &self,
        file: &FileText<'_>,
        deadline: &Deadline,
    ) -> Result<Option<Vec<usize>>, Interrupted> {
        let mut lines = Vec::new();
        if self.collect(file, deadline, &mut lines)? {
            lines.sort_unstable();
            lines.dedup();
            Ok(Some(lines))
        } else {
            Ok(None)
        }
    }

    /// Does the file match? The same answer as `matches(..).is_some()`, without the lines:
    /// literals, regexes and phrases stop at their first occurrence, so deciding a file that
    /// matches early is far cheaper than listing every matching line (`verity search -l`).
    pub fn is_match(&self, file: &FileText<'_>, deadline: &Deadline) -> Result<bool, Interrupted> {
        match self {
            Matcher::Literal(finder) => Ok(finder.find(file.text().as_bytes()).is_some()),
            Matcher::Line(LineRegex {
                line: re, whole, ..
            }) => {
                let text = file.text();
                if let Some(w) = whole {
                    return line_match_after_whole(w, re, text, deadline);
                }
                let li = file.lines();
                if li.line_count() == 0 {
                    return Ok(false);
                }
                for (n, line) in (1..=li.line_count()).enumerate() {
                    if n % CHECK_EVERY == CHECK_EVERY - 1 {
                        deadline.check()?;
                    }
                    if re.is_match(&text[li.span(line, text)]) {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Matcher::Phrase(toks) => first_occurrence(file.text(), toks, deadline),
            Matcher::Near {
                left,
                right,
                distance,
            } => near_exists(file.text(), left, right, *distance, deadline),
            Matcher::And(ms) => {
                for m in ms {
                    if !m.is_match(file, deadline)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Matcher::Or(ms) => {
                for m in ms {
                    if m.is_match(file, deadline)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Matcher::Not(m) => Ok(!m.is_match(file, deadline)?),
        }
    }

    /// Where the query's terms occur in one `line`, for highlighting: sorted, disjoint
    /// `[start, end)` byte ranges. Literals and regexes give their matches within the line;
    /// phrases and NEAR give the line's tokens that are among their tokens; AND and OR give
    /// the union of their parts; NOT gives nothing (what it excludes is absent). A match that
    /// spans lines is not seen in any one of them.
    pub fn highlights(&self, line: &str) -> Vec<[usize; 2]> {
        let mut spans = Vec::new();
        self.push_highlights(line, &mut spans);
        spans.sort_unstable();
        let mut merged: Vec<[usize; 2]> = Vec::with_capacity(spans.len());
        for [s, e] in spans {
            match merged.last_mut() {
                Some(last) if s <= last[1] => last[1] = last[1].max(e),
                _ => merged.push([s, e]),
            }
        }
        merged
    }

    fn push_highlights(&self, line: &str, out: &mut Vec<[usize; 2]>) {
        match self {
            Matcher::Literal(finder) => {
                // Overlapping occurrences, as `collect` counts them: `aa` in `aaa` is `aaa`.
                let (hay, n) = (line.as_bytes(), finder.needle().len());
                let mut from = 0;
                while n > 0 && from < hay.len() {
                    let Some(i) = finder.find(&hay[from..]) else {
                        break;
                    };
                    out.push([from + i, from + i + n]);
                    from += i + 1;
                }
            }
            Matcher::Line(LineRegex {
                line: re, group, ..
            }) => {
                let mut at = 0;
                while at <= line.len() {
                    let Some(c) = re.captures_at(line, at) else {
                        break;
                    };
                    let whole = c.get(0).expect("group 0 is the match");
                    let m = c.get(*group).unwrap_or(whole);
                    if m.start() < m.end() {
                        out.push([m.start(), m.end()]);
                    }
                    // Go on from the end of the match proper: a wildcard's trailing boundary
                    // character can be the next word's leading one. Always move forward.
                    at = m.end().max(whole.start() + 1);
                    while at < line.len() && !line.is_char_boundary(at) {
                        at += 1;
                    }
                }
            }
            Matcher::Phrase(toks) => push_token_highlights(line, toks, out),
            Matcher::Near { left, right, .. } => {
                push_token_highlights(line, left, out);
                push_token_highlights(line, right, out);
            }
            Matcher::And(ms) | Matcher::Or(ms) => {
                for m in ms {
                    m.push_highlights(line, out);
                }
            }
            Matcher::Not(_) => {}
        }
    }

    /// Is there a match? Matching lines are appended to `out` (unsorted) when there is.
    fn collect(
        &self,
        file: &FileText<'_>,
        deadline: &Deadline,
        out: &mut Vec<usize>,
    ) -> Result<bool, Interrupted> {
        match self {
            Matcher::Literal(finder) => {
                let hay = file.text().as_bytes();
                let n = finder.needle().len();
                let mut from = 0;
                let mut found = false;
                // Overlapping occurrences: each may cover different lines.
                while let Some(i) = finder.find(&hay[from..]) {
                    let start = from + i;
                    file.push_span_lines(start, start + n, out);
                    found = true;
                    from = start + 1;
                    if from >= hay.len() {
                        break;
                    }
                }
                Ok(found)
            }
            Matcher::Line(LineRegex {
                line: re, whole, ..
            }) => {
                let text = file.text();
                if whole.as_ref().is_some_and(|w| !w.is_match(text)) {
                    return Ok(false);
                }
                let li = file.lines();
                let mut found = false;
                for line in 1..=li.line_count() {
                    if line.is_multiple_of(CHECK_EVERY) {
                        deadline.check()?;
                    }
                    if re.is_match(&text[li.span(line, text)]) {
                        out.push(line);
                        found = true;
                    }
                }
                Ok(found)
            }
            Matcher::Phrase(toks) => {
                let occ = occurrences(file, toks, deadline)?;
                for &(s, e) in &occ {
                    let spans = &file.tokens().spans;
                    file.push_span_lines(spans[s].0, spans[e - 1].1, out);
                }
                Ok(!occ.is_empty())
            }
            Matcher::Near {
                left,
                right,
                distance,
            } => near(file, left, right, *distance, deadline, out),
            Matcher::And(ms) => {
                let mut local = Vec::new();
                for m in ms {
                    if !m.collect(file, deadline, &mut local)? {
                        return Ok(false);
                    }
                }
                out.extend(local);
                Ok(true)
            }
            Matcher::Or(ms) => {
                let mut any = false;
                for m in ms {
                    any |= m.collect(file, deadline, out)?;
                }
                Ok(any)
            }
            Matcher::Not(m) => Ok(!m.collect(file, deadline, &mut Vec::new())?),
        }
    }
}

/// The tokens of `line` that are among `toks`, as byte ranges.
fn push_token_highlights(line: &str, toks: &[String], out: &mut Vec<[usize; 2]>) {
    for t in code_tokens(line) {
        if toks.iter().any(|q| q.as_str() == &line[t.start..t.end]) {
            out.push([t.start, t.end]);
        }
    }
}

/// Token index ranges `[start, end)` where the token sequence `toks` occurs.
fn occurrences(
    file: &FileText<'_>,
    toks: &[String],
    deadline: &Deadline,
) -> Result<Vec<(usize, usize)>, Interrupted> {
    let n = file.tokens().spans.len();
    let k = toks.len();
    let mut out = Vec::new();
    if k == 0 || k > n {
        return Ok(out);
    }
    for i in 0..=n - k {
        if i.is_multiple_of(CHECK_EVERY) {
            deadline.check()?;
        }
        if (0..k).all(|j| file.token_text(i + j) == toks[j]) {
            out.push((i, i + k));
        }
    }
    Ok(out)
}

/// Does the token sequence `toks` occur in `text`? Tokenizes only as far as the first
/// occurrence, keeping the last `toks.len()` tokens.
fn first_occurrence(text: &str, toks: &[String], deadline: &Deadline) -> Result<bool, Interrupted> {
    let k = toks.len();
    if k == 0 {
        return Ok(false);
    }
    let Some(from) = scan_start(text, &toks[0]) else {
        return Ok(false);
    };
    let text = &text[from..];
    let mut window: std::collections::VecDeque<&str> = std::collections::VecDeque::with_capacity(k);
    for (n, t) in code_tokens(text).enumerate() {
        if n % CHECK_EVERY == CHECK_EVERY - 1 {
            deadline.check()?;
        }
        if window.len() == k {
            window.pop_front();
        }
        window.push_back(&text[t.start..t.end]);
        if window.len() == k && window.iter().zip(toks).all(|(a, b)| *a == b.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Does a line of `text` match `line` (the per-line regex), given `whole`, the same pattern in
/// multi-line mode over the whole text ([`LineRegex`])?
///
/// Each per-line match is also a whole-text match at the same offset, so no line before the
/// whole-text pattern's leftmost match can match: only the line holding that match is tried,
/// then the search goes on from the next line. A file that matches is decided by one
/// whole-text search and one line, with no index of its lines (building one was a tenth of
/// listing 96,000 files for a regex).
fn line_match_after_whole(
    whole: &Regex,
    line: &Regex,
    text: &str,
    deadline: &Deadline,
) -> Result<bool, Interrupted> {
    let bytes = text.as_bytes();
    let (mut at, mut n) = (0, 0usize);
    loop {
        n += 1;
        if n.is_multiple_of(CHECK_EVERY) {
            deadline.check()?;
        }
        let Some(m) = whole.find_at(text, at) else {
            return Ok(false);
        };
        let start = m.start();
        // A final `\n` ends the last line without starting another (docs/query-language.md).
        if start == bytes.len() && (bytes.is_empty() || bytes.ends_with(b"\n")) {
            return Ok(false);
        }
        let line_start = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        if line.is_match(&text[line_start..line_end]) {
            return Ok(true);
        }
        if line_end >= bytes.len() {
            return Ok(false);
        }
        at = line_end + 1;
    }
}

/// Where a token scan of `text` may start and still see every occurrence of a token sequence
/// whose first token is `first`: the start of the token holding the first place `first`'s
/// text occurs (`None` if it never does). Every occurrence of the token is an occurrence of its
/// text, so none starts earlier; and tokenizing from the start of a token gives the same
/// tokens as tokenizing the whole text (a token ends at whitespace, at a symbol, or where a
/// word ends, so nothing before it changes the tokens after).
fn scan_start(text: &str, first: &str) -> Option<usize> {
    let at = memmem::find(text.as_bytes(), first.as_bytes())?;
    let starts_word = |i: usize| text[i..].chars().next().is_some_and(is_word_char);
    if !starts_word(at) {
        return Some(at);
    }
    // Back to the start of the word `at` is in.
    Some(
        text[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_word_char(c))
            .last()
            .map_or(at, |(i, _)| i),
    )
}

/// Is there a pair for `left NEAR/distance right` (as [`near`] defines it)? One pass over the
/// tokens, stopping at the first pair. A pair is seen when its second occurrence completes: the
/// first one has completed before, and the latest occurrence of the other side that ends at or
/// before the second one starts is the one with the fewest words between.
fn near_exists(
    text: &str,
    left: &[String],
    right: &[String],
    distance: u32,
    deadline: &Deadline,
) -> Result<bool, Interrupted> {
    let k = left.len().max(right.len());
    if left.is_empty() || right.is_empty() {
        return Ok(false);
    }
    // Word counts are only ever subtracted, so the scan may start where the first pair can.
    let (Some(l), Some(r)) = (scan_start(text, &left[0]), scan_start(text, &right[0])) else {
        return Ok(false);
    };
    let text = &text[l.min(r)..];
    // The last `k` tokens, each with the number of word tokens before it.
    let mut window: std::collections::VecDeque<(&str, u32)> =
        std::collections::VecDeque::with_capacity(k);
    let mut words = 0u32;
    // Completed occurrences of each side: (end token index, word tokens before the end).
    let mut ends: [Vec<(usize, u32)>; 2] = [Vec::new(), Vec::new()];
    for (i, t) in code_tokens(text).enumerate() {
        if i % CHECK_EVERY == CHECK_EVERY - 1 {
            deadline.check()?;
        }
        if window.len() == k {
            window.pop_front();
        }
        window.push_back((&text[t.start..t.end], words));
        words += u32::from(t.is_word);
        let end = i + 1;
        let mut completed = [false, false];
        for (side, toks) in [left, right].into_iter().enumerate() {
            let (n, w) = (toks.len(), window.len());
            if w < n || !(0..n).all(|j| window[w - n + j].0 == toks[j]) {
                continue;
            }
            completed[side] = true;
            let (start, words_before_start) = (end - n, window[w - n].1);
            let other = &ends[1 - side];
            let p = other.partition_point(|&(e, _)| e <= start);
            if p > 0 && words_before_start - other[p - 1].1 <= distance {
                return Ok(true);
            }
        }
        // Recorded after both checks, so an occurrence never pairs with itself.
        for side in 0..2 {
            if completed[side] {
                ends[side].push((end, words));
            }
        }
    }
    Ok(false)
}

/// `left NEAR/distance right`: occurrences that do not overlap, in either order, with at most
/// `distance` word tokens between the end of the first and the start of the second.
fn near(
    file: &FileText<'_>,
    left: &[String],
    right: &[String],
    distance: u32,
    deadline: &Deadline,
    out: &mut Vec<usize>,
) -> Result<bool, Interrupted> {
    let a = occurrences(file, left, deadline)?;
    if a.is_empty() {
        return Ok(false);
    }
    let b = occurrences(file, right, deadline)?;
    let tokens = file.tokens();
    let gap = |end: usize, start: usize| tokens.words_before[start] - tokens.words_before[end];
    let mut found = false;
    for (n, &(a0, a1)) in a.iter().enumerate() {
        if n.is_multiple_of(CHECK_EVERY) {
            deadline.check()?;
        }
        // The nearest right occurrence starting at or after a1, and the nearest one ending at or
        // before a0: fewer words between can only come from nearer occurrences.
        let after = b.partition_point(|&(b0, _)| b0 < a1);
        let mut pairs = Vec::new();
        if let Some(&(b0, b1)) = b.get(after) {
            if gap(a1, b0) <= distance {
                pairs.push((a0, b1));
            }
        }
        let before = b.partition_point(|&(_, b1)| b1 <= a0);
        // Occurrences are sorted by start and have equal length, so also by end.
        if before > 0 {
            let (b0, b1) = b[before - 1];
            if gap(b1, a0) <= distance {
                pairs.push((b0, a1));
            }
        }
        for (s, e) in pairs {
            file.push_span_lines(tokens.spans[s].0, tokens.spans[e - 1].1, out);
            found = true;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    /// The matching lines; also checks that `is_match` gives the same answer.
    fn lines_of(query: &str, text: &str) -> Option<Vec<usize>> {
        let m = Matcher::compile(&parse(query).unwrap()).unwrap();
        let lines = m.matches(&FileText::new(text), &Deadline::none()).unwrap();
        let quick = m.is_match(&FileText::new(text), &Deadline::none()).unwrap();
        assert_eq!(
            quick,
            lines.is_some(),
            "is_match disagrees for {query:?} on {text:?}"
        );
        lines
    }

    fn hit(query: &str, text: &str) -> bool {
        lines_of(query, text).is_some()
    }

    /// The highlighted pieces of `line`.
    fn highlighted<'a>(query: &str, line: &'a str) -> Vec<&'a str> {
        let m = Matcher::compile(&parse(query).unwrap()).unwrap();
        m.highlights(line)
            .into_iter()
            .map(|[s, e]| &line[s..e])
            .collect()
    }

    #[test]
    fn highlights_name_what_matched() {
        assert_eq!(highlighted("::", "use std::io::Read;"), ["::", "::"]);
        // Overlapping occurrences merge into one range.
        assert_eq!(highlighted("aa", "xaaax"), ["aaa"]);
        assert_eq!(highlighted("/fn\\s+\\w+/", "pub fn main() {}"), ["fn main"]);
        // A wildcard highlights the word, not the boundary character before it.
        assert_eq!(
            highlighted("read*", "let x = reader.read_line();"),
            ["reader", "read_line"]
        );
        assert_eq!(
            highlighted("\"mut self\"", "fn f(&mut self, mut x: Self)"),
            ["mut", "self", "mut"]
        );
        assert_eq!(
            highlighted("lock NEAR/2 unwrap", "m.lock().unwrap()"),
            ["lock", "unwrap"]
        );
        assert_eq!(highlighted("alpha AND NOT beta", "alpha beta"), ["alpha"]);
        assert_eq!(
            highlighted("alpha OR beta", "beta alpha"),
            ["beta", "alpha"]
        );
        assert!(highlighted("zeta", "alpha").is_empty());
        // Ranges are byte offsets that fall on character boundaries.
        assert_eq!(highlighted("é", "café é"), ["é", "é"]);
    }

    #[test]
    fn literal_is_exact_substring() {
        assert!(hit("::", "use std::io;"));
        assert!(hit("Result<T, E>", "fn f() -> Result<T, E> {}"));
        assert!(!hit("Result<T, E>", "fn f() -> Result<E, T> {}"));
        assert!(!hit("Result<T, E>", "fn f() -> Result<T,E> {}"));
        assert!(!hit("result", "Result"));
        assert_eq!(lines_of("a", "x\na\nb\naa"), Some(vec![2, 4]));
        assert_eq!(lines_of("lit:b\nc", "a\nb\nc\nd"), Some(vec![2, 3]));
    }

    #[test]
    fn phrase_crosses_lines_and_ignores_whitespace() {
        let text = "use std::\n    collections::HashMap;\n";
        assert_eq!(
            lines_of("\"use std::collections::HashMap\"", text),
            Some(vec![1, 2])
        );
        assert!(hit("\"std :: io\"", "std::io"));
        // Whole tokens only.
        assert!(!hit("\"Hash\"", "HashMap"));
        assert!(!hit("\"Vec<u8>\"", "Vec<u16>"));
        assert!(hit("\"Vec<u8>\"", "Vec<Vec<u8>>"));
    }

    #[test]
    fn near_counts_words_between_in_either_order() {
        let text = "word1 word2 word3 word4";
        assert!(hit("word1 NEAR/3 word4", text));
        assert!(hit("word1 NEAR/2 word4", text));
        assert!(!hit("word1 NEAR/1 word4", text));
        assert!(hit("word4 NEAR/2 word1", text));
        assert!(hit("\"word1 word4\"~2", text));
        // Punctuation does not count as distance.
        assert!(hit("fn NEAR/1 Result", "fn foo() -> Result<()>"));
        // Overlapping occurrences are not a pair.
        assert!(!hit("a NEAR/5 a", "a"));
        assert!(hit("a NEAR/0 a", "a a"));
        assert_eq!(
            lines_of("alpha NEAR/1 omega", "alpha\nbeta\nomega\nx\ny\nalpha"),
            Some(vec![1, 2, 3])
        );
    }

    #[test]
    fn scans_start_where_the_first_token_can_and_miss_nothing() {
        // The first place `fn` occurs is inside `xfn` (and `éfn`): the scan starts at that
        // word, which is not an occurrence, and still finds the one after it.
        assert!(hit("fn NEAR/1 Result", "xfn a b c fn Result"));
        assert!(hit("fn NEAR/1 Result", "éfn a b c fn Result"));
        assert!(!hit("fn NEAR/1 Result", "xfn Result"));
        assert!(hit("\"fn main\"", "afn main fn main"));
        assert!(!hit("\"fn main\"", "afn main"));
        // Either side may come first; the other side's first occurrence decides nothing.
        assert!(hit("fn NEAR/1 Result", "Result a b c Result x fn"));
        assert!(!hit("fn NEAR/1 Result", "Result a b c fn"));
        // A side that starts with a symbol.
        assert!(hit("\"-> Result\" NEAR/0 fn", "a -> b fn -> Result"));
        // A side whose first token never occurs: no pair.
        assert!(!hit("fn NEAR/9 Missing", "fn a b"));
    }

    #[test]
    fn first_match_answers_agree_with_full_answers_on_every_small_text() {
        // Every text of up to 6 tokens over a few words and symbols, against proximity and
        // phrase queries (whose early-exit paths are the subtle ones).
        let alphabet = ["a", "b", "c", "::", "\n"];
        let queries = [
            "a NEAR/0 b",
            "a NEAR/1 b",
            "a NEAR/0 a",
            "a NEAR/2 a",
            "\"a b\" NEAR/0 c",
            "\"a b\" NEAR/1 \"b c\"",
            "\"a a\" NEAR/0 a",
            "\"a :: b\"",
            "\"b b\"",
        ];
        quick_answers_agree_with_full_answers(&queries, &alphabet, " ");
    }

    /// `is_match` (the first-match answer) against `matches` (every matching line) for every
    /// query on every text of up to 6 pieces of `alphabet`, each after `sep`.
    fn quick_answers_agree_with_full_answers(queries: &[&str], alphabet: &[&str], sep: &str) {
        let matchers: Vec<Matcher> = queries
            .iter()
            .map(|q| Matcher::compile(&parse(q).unwrap()).unwrap())
            .collect();
        let mut texts = vec![String::new()];
        for round in 0..=6 {
            for (q, m) in queries.iter().zip(&matchers) {
                for t in &texts {
                    let file = FileText::new(t);
                    let full = m.matches(&file, &Deadline::none()).unwrap().is_some();
                    let quick = m.is_match(&file, &Deadline::none()).unwrap();
                    assert_eq!(quick, full, "{q} on {t:?}");
                }
            }
            if round < 6 {
                texts = texts
                    .iter()
                    .flat_map(|t| alphabet.iter().map(move |a| format!("{t}{sep}{a}")))
                    .collect();
            }
        }
    }

    #[test]
    fn regex_first_match_answers_agree_with_full_answers_on_every_small_text() {
        // Every text of up to 6 characters over these, against regexes whose whole-text
        // match can start on a line that does not match (`a\s+b` across a line break), match
        // empty lines (a final `\n` starts none), or end at a `\r`. Without `(?m)`, `^` and
        // `$` are anchors of the text to the parser, and such patterns take the per-line path.
        let alphabet = ["a", "b", " ", "\n", "\r"];
        let queries = [
            r"/^$/",
            r"/^a$/",
            r"/b$/",
            r"/a\s+b/",
            r"/a[^x]*b/",
            r"/^\s*$/",
            r"/\bb/",
            r"/a\r$/",
            r"/(?m)^$/",
            r"/(?m)^a$/",
            r"/(?m)b\r?$/",
            r"/\Aa/",
            r"/(?-m)b$/",
            "a*",
            "*b",
        ];
        // Only text anchors go without the whole-text prefilter.
        for (p, prefiltered) in [
            ("^a$", true),
            (r"\bb", true),
            (r"\Aa", false),
            (r"b\z", false),
        ] {
            assert_eq!(
                compile_regex(p).unwrap().whole.is_some(),
                prefiltered,
                "{p}"
            );
        }
        assert!(compile_regex(&wildcard_regex("a*"))
            .unwrap()
            .whole
            .is_some());
        quick_answers_agree_with_full_answers(&queries, &alphabet, "");
    }

    #[test]
    fn booleans_and_not_without_positive_clause() {
        let text = "pub fn main() {}";
        assert!(hit("pub AND fn", text));
        assert!(!hit("pub AND test", text));
        assert!(hit("Error OR main", text));
        assert!(hit("function NOT test", "function f() {}"));
        assert!(!hit("function NOT test", "function test() {}"));
        assert_eq!(lines_of("NOT test", "nothing here"), Some(vec![]));
        assert!(!hit("NOT test", "a test"));
    }

    #[test]
    fn wildcards_match_whole_words() {
        assert!(hit("Data*", "let d: DataFrame = x;"));
        assert!(hit("Data*", "Data"));
        assert!(!hit("Data*", "MyDataFrame"));
        assert!(hit("*Error", "IoError"));
        assert!(!hit("*Error", "ErrorKind"));
        assert!(hit("fn m?in", "pub fn main()"));
        assert!(hit("fn m?in", "fn   main"));
        assert!(!hit("fn m?in", "fn mn"));
        assert!(!hit("fn m?in", "fn\nmain"));
        assert!(hit("test_*_validation", "fn test_query_validation()"));
        assert!(!hit("test_*_validation", "fn test_validation()"));
        assert!(hit("test_*_validation", "fn test__validation()"));
    }

    #[test]
    fn regex_is_line_oriented() {
        assert!(hit("/fn\\s+\\w+\\s*\\(/", "pub fn main() {}"));
        assert!(!hit("/a\\sb/", "a\nb"));
        assert!(hit("/^b$/", "a\nb\nc"));
        assert!(!hit("/^b$/", "a\nb\r\nc"));
        assert!(hit("regex:(?i)HELLO", "hello"));
        // Text anchors mean line anchors, per line; the whole-text prefilter must not reject.
        assert!(hit("regex:\\Ab\\z", "a\nb\nc"));
        assert!(hit("regex:(?-m)^b$", "a\nb\nc"));
        assert!(hit("regex:\\bb\\b", "a\nb\nc"));
    }

    #[test]
    fn passed_deadline_interrupts_long_scans() {
        let text = "x\n".repeat(100_000);
        // `x\sx` matches across lines in the whole-text prefilter, never within a line: the
        // per-line loop runs, and must notice the deadline.
        let m = Matcher::compile(&parse("/x\\sx/").unwrap()).unwrap();
        assert_eq!(
            m.matches(&FileText::new(&text), &Deadline::none()),
            Ok(None)
        );
        let d = Deadline::at(std::time::Instant::now());
        assert_eq!(
            m.matches(&FileText::new(&text), &d),
            Err(Interrupted::TimedOut)
        );
    }
}
