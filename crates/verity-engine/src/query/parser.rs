//! Recursive-descent parser for the query language.
//!
//! Modes, decided before anything else (docs/query-language.md, "Modes"):
//! `lit:` and `regex:` prefixes, a whole query in slashes, *structured* queries (an operator
//! keyword as a whitespace-separated word, or a leading `"`), and otherwise a plain query, which
//! is a wildcard when it has only word characters, whitespace, `*` and `?`, and a literal
//! otherwise.

use super::{Query, QueryError, MAX_NEAR_DISTANCE, MAX_QUERY_CHARS};
use crate::tokenizer::{code_tokens, is_word_char};

/// Parses a query string.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let char_len = input.chars().count();
    if char_len > MAX_QUERY_CHARS {
        return Err(QueryError::new(
            MAX_QUERY_CHARS + 1,
            format!("query is {char_len} characters long; the limit is {MAX_QUERY_CHARS}"),
        ));
    }
    if let Some(col) = input.chars().position(|c| c == '\0') {
        return Err(QueryError::new(col + 1, "NUL character in query"));
    }
    if input.trim().is_empty() {
        return Err(QueryError::new(1, "empty query"));
    }
    if let Some(rest) = input.strip_prefix("lit:") {
        if rest.is_empty() {
            return Err(QueryError::new(5, "empty literal after `lit:`"));
        }
        return Ok(Query::Literal(rest.to_owned()));
    }
    if let Some(rest) = input.strip_prefix("regex:") {
        check_regex(rest, 7)?;
        return Ok(Query::Regex(rest.to_owned()));
    }
    let trimmed = input.trim();
    let lead = input.len() - input.trim_start().len();
    let lead_cols = input[..lead].chars().count();
    if trimmed.len() >= 3 && trimmed.starts_with('/') && trimmed.ends_with('/') {
        let pattern = unescape_slash(&trimmed[1..trimmed.len() - 1]);
        check_regex(&pattern, lead_cols + 2)?;
        return Ok(Query::Regex(pattern));
    }
    if is_structured(trimmed) {
        let tokens = lex(input)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            end_column: char_len + 1,
        };
        let q = p.parse_or()?;
        if let Some(t) = p.peek() {
            let msg = match t.kind {
                Tok::RParen => "unbalanced `)`".to_string(),
                _ => format!("unexpected {}", t.describe()),
            };
            return Err(QueryError::new(t.column, msg));
        }
        return Ok(q);
    }
    Ok(plain_term(trimmed))
}

/// Is the query structured: an operator keyword as a word, or a leading quote?
fn is_structured(trimmed: &str) -> bool {
    trimmed.starts_with('"') || trimmed.split_whitespace().any(|w| keyword(w).is_some())
}

/// A plain word or query: a wildcard if it has only word characters, whitespace, `*` and `?`
/// (and at least one wildcard), a literal otherwise.
fn plain_term(s: &str) -> Query {
    let has_wildcard = s.contains(['*', '?']);
    let only_wild_chars = s
        .chars()
        .all(|c| is_word_char(c) || c.is_whitespace() || c == '*' || c == '?');
    if has_wildcard && only_wild_chars {
        Query::Wildcard(s.to_owned())
    } else {
        Query::Literal(s.to_owned())
    }
}

/// `\/` stands for `/` inside a `/.../` regex.
fn unescape_slash(s: &str) -> String {
    s.replace("\\/", "/")
}

/// Validates a regex, mapping its error to a query column (`column` is where the pattern starts).
fn check_regex(pattern: &str, column: usize) -> Result<(), QueryError> {
    if pattern.is_empty() {
        return Err(QueryError::new(column, "empty regular expression"));
    }
    if let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) {
        let offset = e.span().start.offset;
        let col = column + pattern[..offset.min(pattern.len())].chars().count();
        return Err(QueryError::new(
            col,
            format!("invalid regular expression: {}", e.kind()),
        ));
    }
    if let Err(e) = regex::RegexBuilder::new(pattern).build() {
        let first_line = e.to_string();
        let msg = first_line
            .lines()
            .last()
            .unwrap_or("invalid regular expression")
            .trim_start_matches("error: ")
            .to_owned();
        return Err(QueryError::new(
            column,
            format!("invalid regular expression: {msg}"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    And,
    Or,
    Not,
    Near(u32),
    LParen,
    RParen,
    /// Phrase text and an optional `~n`.
    Phrase(String, Option<u32>),
    Regex(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Lexeme {
    kind: Tok,
    column: usize,
}

impl Lexeme {
    fn describe(&self) -> String {
        match &self.kind {
            Tok::And => "`AND`".into(),
            Tok::Or => "`OR`".into(),
            Tok::Not => "`NOT`".into(),
            Tok::Near(n) => format!("`NEAR/{n}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Phrase(p, _) => format!("phrase \"{p}\""),
            Tok::Regex(r) => format!("regex /{r}/"),
            Tok::Word(w) => format!("word `{w}`"),
        }
    }
}

enum Keyword {
    And,
    Or,
    Not,
    /// `NEAR/` followed by something that may or may not be a valid distance.
    Near(Result<u32, String>),
}

fn keyword(word: &str) -> Option<Keyword> {
    match word {
        "AND" => Some(Keyword::And),
        "OR" => Some(Keyword::Or),
        "NOT" => Some(Keyword::Not),
        _ => {
            let n = word.strip_prefix("NEAR/")?;
            Some(Keyword::Near(parse_distance(n)))
        }
    }
}

fn parse_distance(n: &str) -> Result<u32, String> {
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{n}` is not a distance (a whole number)"));
    }
    match n.parse::<u32>() {
        Ok(v) if v <= MAX_NEAR_DISTANCE => Ok(v),
        _ => Err(format!(
            "distance {n} is over the limit {MAX_NEAR_DISTANCE}"
        )),
    }
}

/// Splits a structured query into lexemes, with 1-based character columns.
fn lex(input: &str) -> Result<Vec<Lexeme>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push(Lexeme {
                    kind: Tok::LParen,
                    column,
                });
                i += 1;
            }
            ')' => {
                out.push(Lexeme {
                    kind: Tok::RParen,
                    column,
                });
                i += 1;
            }
            '"' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .map(|p| p + i + 1)
                    .ok_or_else(|| {
                        QueryError::new(column, "unbalanced `\"`: the phrase is never closed")
                    })?;
                let text: String = chars[i + 1..close].iter().collect();
                i = close + 1;
                let mut slop = None;
                if chars.get(i) == Some(&'~') {
                    let start = i + 1;
                    let mut end = start;
                    while end < chars.len() && chars[end].is_ascii_digit() {
                        end += 1;
                    }
                    let digits: String = chars[start..end].iter().collect();
                    slop =
                        Some(parse_distance(&digits).map_err(|m| QueryError::new(start + 1, m))?);
                    i = end;
                }
                out.push(Lexeme {
                    kind: Tok::Phrase(text, slop),
                    column,
                });
            }
            '/' => {
                let mut j = i + 1;
                let mut pattern = String::new();
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(QueryError::new(
                                column,
                                "unbalanced `/`: the regular expression is never closed",
                            ))
                        }
                        Some('\\') if chars.get(j + 1) == Some(&'/') => {
                            pattern.push('/');
                            j += 2;
                        }
                        Some('/') => break,
                        Some(&c) => {
                            pattern.push(c);
                            j += 1;
                        }
                    }
                }
                check_regex(&pattern, column + 1)?;
                out.push(Lexeme {
                    kind: Tok::Regex(pattern),
                    column,
                });
                i = j + 1;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let kind = match keyword(&word) {
                    Some(Keyword::And) => Tok::And,
                    Some(Keyword::Or) => Tok::Or,
                    Some(Keyword::Not) => Tok::Not,
                    Some(Keyword::Near(Ok(n))) => Tok::Near(n),
                    Some(Keyword::Near(Err(m))) => return Err(QueryError::new(column + 5, m)),
                    None => Tok::Word(word),
                };
                out.push(Lexeme { kind, column });
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Lexeme>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Lexeme> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    // or := and ("OR" and)*
    fn parse_or(&mut self) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_and()?];
        while matches!(self.peek().map(|t| &t.kind), Some(Tok::Or)) {
            self.bump();
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Query::Or(items)
        })
    }

    // and := unary (("AND")? unary)*
    fn parse_and(&mut self) -> Result<Query, QueryError> {
        let mut items = vec![self.parse_unary()?];
        loop {
            match self.peek().map(|t| &t.kind) {
                Some(Tok::And) => {
                    self.bump();
                    items.push(self.parse_unary()?);
                }
                Some(Tok::Or | Tok::RParen) | None => break,
                Some(_) => items.push(self.parse_unary()?),
            }
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Query::And(items)
        })
    }

    // unary := "NOT" unary | near
    fn parse_unary(&mut self) -> Result<Query, QueryError> {
        if matches!(self.peek().map(|t| &t.kind), Some(Tok::Not)) {
            self.bump();
            return Ok(Query::Not(Box::new(self.parse_unary()?)));
        }
        self.parse_near()
    }

    // near := primary ("NEAR/n" primary)?
    fn parse_near(&mut self) -> Result<Query, QueryError> {
        let left_col = self.column();
        let left = self.parse_primary()?;
        let Some(Tok::Near(distance)) = self.peek().map(|t| t.kind.clone()) else {
            return Ok(left);
        };
        self.bump();
        let right_col = self.column();
        let right = self.parse_primary()?;
        let left = near_operand(left, left_col)?;
        let right = near_operand(right, right_col)?;
        if let Some(t) = self.peek() {
            if matches!(t.kind, Tok::Near(_)) {
                return Err(QueryError::new(
                    t.column,
                    "`NEAR` cannot be chained; combine NEAR pairs with AND",
                ));
            }
        }
        Ok(Query::Near {
            left,
            right,
            distance,
        })
    }

    fn parse_primary(&mut self) -> Result<Query, QueryError> {
        let column = self.column();
        let Some(t) = self.bump() else {
            return Err(QueryError::new(
                column,
                "expected a term, found the end of the query",
            ));
        };
        match t.kind {
            Tok::LParen => {
                let q = self.parse_or()?;
                match self.bump() {
                    Some(Lexeme {
                        kind: Tok::RParen, ..
                    }) => Ok(q),
                    _ => Err(QueryError::new(t.column, "unbalanced `(`: no matching `)`")),
                }
            }
            Tok::Phrase(text, slop) => phrase_query(&text, slop, t.column),
            Tok::Regex(r) => Ok(Query::Regex(r)),
            Tok::Word(w) => Ok(plain_term(&w)),
            Tok::RParen => Err(QueryError::new(t.column, "unbalanced `)`")),
            _ => Err(QueryError::new(
                t.column,
                format!("expected a term, found {}", t.describe()),
            )),
        }
    }
}

fn phrase_tokens(text: &str) -> Vec<String> {
    code_tokens(text).map(|t| t.text.to_owned()).collect()
}

fn phrase_query(text: &str, slop: Option<u32>, column: usize) -> Result<Query, QueryError> {
    match slop {
        None => {
            let toks = phrase_tokens(text);
            if toks.is_empty() {
                return Err(QueryError::new(column, "empty phrase"));
            }
            Ok(Query::Phrase(toks))
        }
        Some(distance) => {
            let parts: Vec<&str> = text.split_whitespace().collect();
            if parts.len() != 2 {
                return Err(QueryError::new(
                    column,
                    format!(
                        "a proximity phrase \"a b\"~n needs exactly two whitespace-separated parts, found {}",
                        parts.len()
                    ),
                ));
            }
            Ok(Query::Near {
                left: phrase_tokens(parts[0]),
                right: phrase_tokens(parts[1]),
                distance,
            })
        }
    }
}

fn near_operand(q: Query, column: usize) -> Result<Vec<String>, QueryError> {
    match q {
        Query::Phrase(toks) => Ok(toks),
        Query::Literal(w) => Ok(phrase_tokens(&w)),
        _ => Err(QueryError::new(
            column,
            "NEAR operands must be words or phrases (not wildcards, regexes, groups or proximity)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Query {
        Query::Literal(s.into())
    }

    fn toks(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn special_character_queries_are_literal() {
        for q in [
            "Result<T, E>",
            "#[derive(Debug)]",
            "&mut self",
            "::",
            "[workspace]",
            "->",
            "@decorator",
            "HashMap<String, Vec<u32>>",
            "foo(",
            "a || b",
            "/usr/bin",
        ] {
            assert_eq!(parse(q).unwrap(), lit(q), "{q}");
        }
        assert_eq!(parse("  ::  ").unwrap(), lit("::"));
        assert_eq!(parse("lit:pub AND fn").unwrap(), lit("pub AND fn"));
        assert_eq!(parse("lit:  x").unwrap(), lit("  x"));
    }

    #[test]
    fn booleans() {
        assert_eq!(
            parse("pub AND fn").unwrap(),
            Query::And(vec![lit("pub"), lit("fn")])
        );
        assert_eq!(
            parse("Error OR Result OR Option").unwrap(),
            Query::Or(vec![lit("Error"), lit("Result"), lit("Option")])
        );
        assert_eq!(
            parse("function NOT test").unwrap(),
            Query::And(vec![lit("function"), Query::Not(Box::new(lit("test")))])
        );
        assert_eq!(
            parse("NOT test").unwrap(),
            Query::Not(Box::new(lit("test")))
        );
        assert_eq!(
            parse("(a OR b) AND NOT (c OR d::e)").unwrap(),
            Query::And(vec![
                Query::Or(vec![lit("a"), lit("b")]),
                Query::Not(Box::new(Query::Or(vec![lit("c"), lit("d::e")])))
            ])
        );
        // Implicit AND between adjacent terms of a structured query.
        assert_eq!(
            parse("a b OR c").unwrap(),
            Query::Or(vec![Query::And(vec![lit("a"), lit("b")]), lit("c")])
        );
        // Lower-case keywords are words.
        assert_eq!(parse("pub and fn").unwrap(), lit("pub and fn"));
    }

    #[test]
    fn phrases_and_proximity() {
        assert_eq!(
            parse("\"use std::collections::HashMap\"").unwrap(),
            Query::Phrase(toks(&[
                "use",
                "std",
                ":",
                ":",
                "collections",
                ":",
                ":",
                "HashMap"
            ]))
        );
        assert_eq!(
            parse("word1 NEAR/3 word4").unwrap(),
            Query::Near {
                left: toks(&["word1"]),
                right: toks(&["word4"]),
                distance: 3
            }
        );
        assert_eq!(
            parse("\"a b\"~5").unwrap(),
            Query::Near {
                left: toks(&["a"]),
                right: toks(&["b"]),
                distance: 5
            }
        );
        assert_eq!(
            parse("\"std::io\" NEAR/2 Result").unwrap(),
            Query::Near {
                left: toks(&["std", ":", ":", "io"]),
                right: toks(&["Result"]),
                distance: 2
            }
        );
    }

    #[test]
    fn wildcards_and_regexes() {
        for q in ["Data*", "*Error", "fn m?in", "test_*_validation"] {
            assert_eq!(parse(q).unwrap(), Query::Wildcard(q.into()));
        }
        assert_eq!(parse("foo()?").unwrap(), lit("foo()?"));
        assert_eq!(
            parse("/fn\\s+\\w+\\s*\\(/").unwrap(),
            Query::Regex("fn\\s+\\w+\\s*\\(".into())
        );
        assert_eq!(parse("regex:a/b").unwrap(), Query::Regex("a/b".into()));
        assert_eq!(
            parse("/a\\/b/ AND c").unwrap(),
            Query::And(vec![Query::Regex("a/b".into()), lit("c")])
        );
        assert_eq!(
            parse("Data* AND NOT *Error").unwrap(),
            Query::And(vec![
                Query::Wildcard("Data*".into()),
                Query::Not(Box::new(Query::Wildcard("*Error".into())))
            ])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let cases = [
            ("", 1, "empty query"),
            ("   ", 1, "empty query"),
            ("a\0b", 2, "NUL"),
            ("\"abc", 1, "unbalanced `\"`"),
            ("x AND \"abc", 7, "unbalanced `\"`"),
            ("(a AND b", 1, "unbalanced `(`"),
            ("a AND b)", 8, "unbalanced `)`"),
            ("pub AND", 8, "end of the query"),
            ("AND pub", 1, "expected a term"),
            ("/fn(/", 4, "invalid regular expression"),
            ("regex:a[", 8, "invalid regular expression"),
            ("a NEAR/x b", 8, "not a distance"),
            ("a NEAR/3 b NEAR/2 c", 12, "chained"),
            ("a NEAR/3 b*", 10, "NEAR operands"),
            ("\"a b c\"~2", 1, "exactly two"),
            ("\"\"", 1, "empty phrase"),
            ("lit:", 5, "empty literal"),
            ("x AND /ab", 7, "unbalanced `/`"),
        ];
        for (q, col, needle) in cases {
            let e = parse(q).expect_err(q);
            assert_eq!(e.column, col, "{q}: {e}");
            assert!(e.message.contains(needle), "{q}: {e}");
        }
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(parse(&long).unwrap_err().message.contains("limit"));
        assert!(parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
    }
}
