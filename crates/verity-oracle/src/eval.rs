//! Brute-force meaning of every expression (section 3 of docs/query-language.md).

use crate::file::CorpusFile;
use crate::syntax::{Expr, WildPart};
use crate::tokens::is_word;

/// Does the file match the expression?
pub fn file_matches(e: &Expr, f: &CorpusFile) -> bool {
    match e {
        Expr::Substring(s) => f.text.contains(s.as_str()),
        Expr::LineRegex(r) => f.lines().iter().any(|l| r.is_match(l)),
        // Each check below starts with a necessary condition on the whole text (every literal
        // piece of the term occurs in it), which rules most files out at memchr speed.
        Expr::Wildcard(p) => {
            literal_runs(p).iter().all(|r| f.text.contains(r.as_str()))
                && f.lines().iter().any(|l| wildcard_in_line(p, l))
        }
        Expr::Phrase(p) => {
            p.iter().all(|t| f.text.contains(t.as_str())) && !find_all(f, p).is_empty()
        }
        Expr::Near { a, b, n } => {
            a.iter().chain(b).all(|t| f.text.contains(t.as_str())) && near(f, a, b, *n)
        }
        Expr::All(xs) => xs.iter().all(|x| file_matches(x, f)),
        Expr::Any(xs) => xs.iter().any(|x| file_matches(x, f)),
        Expr::Negate(x) => !file_matches(x, f),
    }
}

/// Start indexes of every occurrence of `seq` in the file's tokens.
fn find_all(f: &CorpusFile, seq: &[String]) -> Vec<usize> {
    let toks = f.tokens();
    if seq.is_empty() || seq.len() > toks.len() {
        return Vec::new();
    }
    (0..=toks.len() - seq.len())
        .filter(|&i| {
            seq.iter()
                .enumerate()
                .all(|(k, s)| f.token_text(toks[i + k]) == s)
        })
        .collect()
}

fn near(f: &CorpusFile, a: &[String], b: &[String], n: u32) -> bool {
    let toks = f.tokens();
    let starts_a = find_all(f, a);
    let starts_b = find_all(f, b);
    // Word tokens strictly between `from` (exclusive end of the first) and `to` (start of the
    // second), counting up to n + 1 at most.
    let words_between = |from: usize, to: usize| {
        toks[from..to]
            .iter()
            .filter(|t| t.word)
            .take(n as usize + 1)
            .count() as u32
    };
    for &sa in &starts_a {
        let ea = sa + a.len();
        for &sb in &starts_b {
            let eb = sb + b.len();
            let ok = if ea <= sb {
                words_between(ea, sb) <= n
            } else if eb <= sa {
                words_between(eb, sa) <= n
            } else {
                false // overlapping
            };
            if ok {
                return true;
            }
        }
    }
    false
}

/// The runs of literal characters of a wildcard pattern: a match contains each of them.
fn literal_runs(p: &[WildPart]) -> Vec<String> {
    let mut runs = vec![String::new()];
    for part in p {
        match part {
            WildPart::Char(c) => runs.last_mut().expect("one run").push(*c),
            _ => runs.push(String::new()),
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// Does a wildcard pattern match whole words somewhere in the line?
fn wildcard_in_line(p: &[WildPart], line: &str) -> bool {
    let cs: Vec<char> = line.chars().collect();
    (0..=cs.len()).any(|i| (i == 0 || !is_word(cs[i - 1])) && wild_at(p, &cs, i))
}

fn wild_at(p: &[WildPart], cs: &[char], i: usize) -> bool {
    let Some((first, rest)) = p.split_first() else {
        return i == cs.len() || !is_word(cs[i]);
    };
    match first {
        WildPart::Char(c) => i < cs.len() && cs[i] == *c && wild_at(rest, cs, i + 1),
        WildPart::One => i < cs.len() && is_word(cs[i]) && wild_at(rest, cs, i + 1),
        WildPart::AnyRun => {
            let mut j = i;
            loop {
                if wild_at(rest, cs, j) {
                    return true;
                }
                if j < cs.len() && is_word(cs[j]) {
                    j += 1;
                } else {
                    return false;
                }
            }
        }
        WildPart::Gap => {
            let mut j = i;
            while j < cs.len() && cs[j].is_whitespace() {
                j += 1;
                if wild_at(rest, cs, j) {
                    return true;
                }
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Corpus, CorpusFile, Oracle};

    fn corpus(files: &[(&str, &str)]) -> Corpus {
        Corpus::from_files(files.iter().map(|(p, t)| CorpusFile::new(*p, *t)).collect())
    }

    fn hits(c: &Corpus, q: &str) -> Vec<String> {
        Oracle::new(c).files(q).unwrap().into_iter().collect()
    }

    #[test]
    fn the_documented_examples() {
        let c = corpus(&[
            (
                "a.rs",
                "use std::\n    collections::HashMap;\nfn f() -> Result<T, E> {}\n",
            ),
            (
                "b.rs",
                "fn g() -> Result<E, T> { word1 word2 word3 word4 }\n",
            ),
            (
                "c.py",
                "class DataFrame: pass\nMyDataFrame = 1\nfn   main\n",
            ),
            ("d.js", "function test() {}\n"),
            ("e.js", "function f() {}\n"),
        ]);
        assert_eq!(hits(&c, "Result<T, E>"), ["a.rs"]);
        assert_eq!(hits(&c, "\"use std::collections::HashMap\""), ["a.rs"]);
        assert_eq!(hits(&c, "\"Hash\"").len(), 0);
        assert_eq!(hits(&c, "word1 NEAR/2 word4"), ["b.rs"]);
        assert_eq!(hits(&c, "word4 NEAR/2 word1"), ["b.rs"]);
        assert!(hits(&c, "word1 NEAR/1 word4").is_empty());
        assert_eq!(hits(&c, "\"word1 word4\"~2"), ["b.rs"]);
        assert_eq!(hits(&c, "Data*"), ["c.py"]);
        assert_eq!(hits(&c, "fn m?in"), ["c.py"]);
        assert_eq!(hits(&c, "function NOT test"), ["e.js"]);
        assert_eq!(hits(&c, "NOT fn"), ["d.js", "e.js"]);
        assert_eq!(hits(&c, "/^fn\\s+\\w+\\(/"), ["a.rs", "b.rs"]);
        assert_eq!(hits(&c, "fn NEAR/1 Result"), ["a.rs", "b.rs"]);
    }

    #[test]
    fn invalid_queries_are_errors() {
        let c = corpus(&[]);
        for q in [
            "",
            "\"x",
            "(a AND b",
            "a AND",
            "/fn(/",
            "a NEAR/x b",
            "lit:",
            "regex:",
            "\"\"",
        ] {
            assert!(Oracle::new(&c).files(q).is_err(), "{q}");
        }
    }
}
