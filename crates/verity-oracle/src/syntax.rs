//! Reading a query: modes (section 2), terms (section 3) and the structured grammar
//! (section 4) of docs/query-language.md.

use regex::Regex;

use crate::tokens::{is_word, tokenize};

/// A query, ready to evaluate.
#[derive(Debug, Clone)]
pub enum Expr {
    /// The text occurs in the file as written (`lit:` and terms without wildcards).
    Substring(String),
    /// A code token matches the pattern.
    Wildcard(Vec<WildPart>),
    /// The regex matches within one line.
    LineRegex(Regex),
    /// These tokens occur consecutively.
    Phrase(Vec<String>),
    /// Term `a` and term `b` occur within `n` tokens of each other.
    Near {
        /// The first term's tokens.
        a: Vec<String>,
        /// The second term's tokens.
        b: Vec<String>,
        /// The largest distance in tokens.
        n: u32,
    },
    /// Every part holds (`AND`).
    All(Vec<Expr>),
    /// Some part holds (`OR`).
    Any(Vec<Expr>),
    /// The part does not hold (`NOT`).
    Negate(Box<Expr>),
}

/// One element of a wildcard pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum WildPart {
    /// This character.
    Char(char),
    /// `*`: zero or more word characters.
    AnyRun,
    /// `?`: one word character.
    One,
    /// A run of whitespace: one or more whitespace characters.
    Gap,
}

/// Why a query is not valid. The column is informative; only validity is compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {reason}")]
pub struct SyntaxError {
    /// Column of the problem, from 1.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

fn fail<T>(column: usize, reason: &str) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        column,
        reason: reason.to_string(),
    })
}

/// Reads a query string into an expression.
pub fn read_query(q: &str) -> Result<Expr, SyntaxError> {
    let n_chars = q.chars().count();
    if n_chars > 10_000 {
        return fail(10_001, "too long");
    }
    if let Some(i) = q.chars().position(|c| c == '\0') {
        return fail(i + 1, "NUL");
    }
    if q.trim().is_empty() {
        return fail(1, "empty");
    }
    // Mode 1 and 2: prefixes, the rest taken exactly.
    if let Some(rest) = q.strip_prefix("lit:") {
        return if rest.is_empty() {
            fail(5, "empty literal")
        } else {
            Ok(Expr::Substring(rest.to_string()))
        };
    }
    if let Some(rest) = q.strip_prefix("regex:") {
        return line_regex(rest, 7);
    }
    let t = q.trim();
    // Mode 3: a whole query in slashes.
    let tc: Vec<char> = t.chars().collect();
    if tc.len() >= 3 && tc[0] == '/' && tc[tc.len() - 1] == '/' {
        let inner: String = tc[1..tc.len() - 1].iter().collect();
        return line_regex(&inner.replace("\\/", "/"), 2);
    }
    // Mode 4: structured.
    let keyword_word = t
        .split_whitespace()
        .any(|w| w == "AND" || w == "OR" || w == "NOT" || w.starts_with("NEAR/"));
    if t.starts_with('"') || keyword_word {
        let items = lex(q)?;
        let mut p = Grammar {
            items,
            at: 0,
            end: q.chars().count() + 1,
        };
        let e = p.or()?;
        if p.at < p.items.len() {
            return fail(p.items[p.at].col, "trailing input");
        }
        return Ok(e);
    }
    // Mode 5: plain.
    Ok(plain(t))
}

fn line_regex(pattern: &str, col: usize) -> Result<Expr, SyntaxError> {
    if pattern.is_empty() {
        return fail(col, "empty regex");
    }
    match Regex::new(pattern) {
        Ok(r) => Ok(Expr::LineRegex(r)),
        Err(_) => fail(col, "invalid regex"),
    }
}

/// A plain term: wildcard or literal (section 3).
fn plain(s: &str) -> Expr {
    let wild = s.contains('*') || s.contains('?');
    let only = s
        .chars()
        .all(|c| c == '*' || c == '?' || is_word(c) || c.is_whitespace());
    if !(wild && only) {
        return Expr::Substring(s.to_string());
    }
    let mut parts = Vec::new();
    for c in s.chars() {
        let part = match c {
            '*' => WildPart::AnyRun,
            '?' => WildPart::One,
            c if c.is_whitespace() => WildPart::Gap,
            c => WildPart::Char(c),
        };
        if part == WildPart::Gap && parts.last() == Some(&WildPart::Gap) {
            continue;
        }
        parts.push(part);
    }
    Expr::Wildcard(parts)
}

#[derive(Debug, Clone)]
enum Kind {
    Open,
    Close,
    And,
    Or,
    Not,
    Near(u32),
    Quoted(String, Option<u32>),
    Slashed(String),
    Bare(String),
}

#[derive(Debug, Clone)]
struct Item {
    kind: Kind,
    col: usize,
}

fn distance(digits: &str, col: usize) -> Result<u32, SyntaxError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return fail(col, "bad distance");
    }
    match digits.parse::<u64>() {
        Ok(n) if n <= 10_000 => Ok(n as u32),
        _ => fail(col, "distance too large"),
    }
}

fn lex(q: &str) -> Result<Vec<Item>, SyntaxError> {
    let cs: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let col = i + 1;
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            out.push(Item {
                kind: if c == '(' { Kind::Open } else { Kind::Close },
                col,
            });
            i += 1;
        } else if c == '"' {
            let mut j = i + 1;
            while j < cs.len() && cs[j] != '"' {
                j += 1;
            }
            if j == cs.len() {
                return fail(col, "unclosed quote");
            }
            let body: String = cs[i + 1..j].iter().collect();
            i = j + 1;
            let mut slop = None;
            if i < cs.len() && cs[i] == '~' {
                let mut k = i + 1;
                while k < cs.len() && cs[k].is_ascii_digit() {
                    k += 1;
                }
                let digits: String = cs[i + 1..k].iter().collect();
                slop = Some(distance(&digits, i + 2)?);
                i = k;
            }
            out.push(Item {
                kind: Kind::Quoted(body, slop),
                col,
            });
        } else if c == '/' {
            let mut pat = String::new();
            let mut j = i + 1;
            loop {
                if j >= cs.len() {
                    return fail(col, "unclosed regex");
                }
                if cs[j] == '\\' && j + 1 < cs.len() && cs[j + 1] == '/' {
                    pat.push('/');
                    j += 2;
                } else if cs[j] == '/' {
                    break;
                } else {
                    pat.push(cs[j]);
                    j += 1;
                }
            }
            if pat.is_empty() {
                return fail(col, "empty regex");
            }
            if Regex::new(&pat).is_err() {
                return fail(col, "invalid regex");
            }
            out.push(Item {
                kind: Kind::Slashed(pat),
                col,
            });
            i = j + 1;
        } else {
            let mut j = i;
            while j < cs.len() && !cs[j].is_whitespace() && !matches!(cs[j], '(' | ')' | '"') {
                j += 1;
            }
            let w: String = cs[i..j].iter().collect();
            let kind = match w.as_str() {
                "AND" => Kind::And,
                "OR" => Kind::Or,
                "NOT" => Kind::Not,
                _ => match w.strip_prefix("NEAR/") {
                    Some(d) => Kind::Near(distance(d, col + 5)?),
                    None => Kind::Bare(w),
                },
            };
            out.push(Item { kind, col });
            i = j;
        }
    }
    Ok(out)
}

struct Grammar {
    items: Vec<Item>,
    at: usize,
    /// The column just past the query: where "missing operand" at the end points.
    end: usize,
}

impl Grammar {
    fn peek(&self) -> Option<&Kind> {
        self.items.get(self.at).map(|i| &i.kind)
    }

    fn col(&self) -> usize {
        self.items.get(self.at).map_or(self.end, |i| i.col)
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        let mut xs = vec![self.and()?];
        while let Some(Kind::Or) = self.peek() {
            self.at += 1;
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            Expr::Any(xs)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut xs = vec![self.unary()?];
        loop {
            match self.peek() {
                None | Some(Kind::Or) | Some(Kind::Close) => break,
                Some(Kind::And) => {
                    self.at += 1;
                    xs.push(self.unary()?);
                }
                Some(_) => xs.push(self.unary()?),
            }
        }
        Ok(if xs.len() == 1 {
            xs.remove(0)
        } else {
            Expr::All(xs)
        })
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if let Some(Kind::Not) = self.peek() {
            self.at += 1;
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        let first = self.primary()?;
        if let Some(&Kind::Near(n)) = self.peek() {
            self.at += 1;
            let col = self.col();
            let second = self.primary()?;
            let a = near_side(first, col)?;
            let b = near_side(second, col)?;
            if let Some(Kind::Near(_)) = self.peek() {
                return fail(self.col(), "NEAR does not chain");
            }
            return Ok(Expr::Near { a, b, n });
        }
        Ok(first)
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let col = self.col();
        let Some(item) = self.items.get(self.at).cloned() else {
            return fail(col, "missing operand");
        };
        self.at += 1;
        match item.kind {
            Kind::Open => {
                let e = self.or()?;
                match self.peek() {
                    Some(Kind::Close) => {
                        self.at += 1;
                        Ok(e)
                    }
                    _ => fail(item.col, "unbalanced ("),
                }
            }
            Kind::Quoted(body, None) => {
                let toks: Vec<String> = tokenize(&body).into_iter().map(|t| t.0).collect();
                if toks.is_empty() {
                    return fail(item.col, "empty phrase");
                }
                Ok(Expr::Phrase(toks))
            }
            Kind::Quoted(body, Some(n)) => {
                let parts: Vec<&str> = body.split_whitespace().collect();
                if parts.len() != 2 {
                    return fail(item.col, "proximity phrase needs two parts");
                }
                let side = |s: &str| tokenize(s).into_iter().map(|t| t.0).collect::<Vec<_>>();
                Ok(Expr::Near {
                    a: side(parts[0]),
                    b: side(parts[1]),
                    n,
                })
            }
            Kind::Slashed(p) => Ok(Expr::LineRegex(Regex::new(&p).expect("checked in lex"))),
            Kind::Bare(w) => Ok(plain(&w)),
            _ => fail(item.col, "expected an operand"),
        }
    }
}

/// A NEAR operand: a word (literal, not wildcard) or a phrase without `~`.
fn near_side(e: Expr, col: usize) -> Result<Vec<String>, SyntaxError> {
    match e {
        Expr::Phrase(t) => Ok(t),
        Expr::Substring(w) => Ok(tokenize(&w).into_iter().map(|t| t.0).collect()),
        _ => fail(col, "bad NEAR operand"),
    }
}
