//! The top of the query language: a search request is a text query, or a `vector:` or
//! `hybrid:` query (docs/query-language.md, section 7).

use super::{parse, Query, QueryError, MAX_QUERY_CHARS};

/// Default number of results of vector and hybrid queries.
pub const DEFAULT_K: usize = 10;
/// Largest `k` accepted.
pub const MAX_K: usize = 1000;
/// Default depth of the vector ranking fused by a hybrid query, in chunks.
pub const DEFAULT_DEPTH: usize = 100;
/// Reciprocal rank fusion's constant (Cormack et al. 2009).
pub const RRF_K: f64 = 60.0;

/// A nearest-neighbour query over chunk embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuery {
    /// The text that is embedded.
    pub text: String,
    /// Number of chunks returned (before `min` filters them).
    pub k: usize,
    /// Chunks less similar than this (cosine) are dropped.
    pub min_similarity: Option<f32>,
}

/// Reciprocal rank fusion of the text query's BM25 ranking and the vector ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct HybridQuery {
    /// The query as written: parsed as a text query, and embedded as it is.
    pub text: String,
    /// The text query, parsed.
    pub query: Query,
    /// Number of files returned.
    pub k: usize,
    /// Weight of the text ranking in the fusion (`text=`).
    pub text_weight: f64,
    /// Weight of the vector ranking in the fusion (`vector=`).
    pub vector_weight: f64,
    /// Chunks of the vector ranking that take part in the fusion.
    pub depth: usize,
}

/// What a query string asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// An exact text query (literal, boolean, phrase, proximity, wildcard, regex).
    Text(Query),
    /// `vector:`: the nearest chunks by embedding.
    Vector(VectorQuery),
    /// `hybrid:`: text and vector rankings fused.
    Hybrid(HybridQuery),
}

/// Parses a query string: `vector:` and `hybrid:` prefixes (with optional parameters in
/// parentheses), anything else as a text query.
pub fn parse_request(input: &str) -> Result<Request, QueryError> {
    let err = |column: usize, message: String| QueryError { column, message };
    if input.chars().count() > MAX_QUERY_CHARS {
        // The text parser words this error; every mode has the same limit.
        return parse(input).map(Request::Text);
    }
    let kind = if input.starts_with("vector") {
        "vector"
    } else if input.starts_with("hybrid") {
        "hybrid"
    } else {
        return parse(input).map(Request::Text);
    };
    let rest = &input[kind.len()..];
    let (params, text, text_col) = if let Some(t) = rest.strip_prefix(':') {
        ("", t, kind.len() + 2)
    } else if let Some(p) = rest.strip_prefix('(') {
        let Some(close) = p.find("):") else {
            return Err(err(
                kind.len() + 1,
                format!("`{kind}(` must be closed by `):` before the text"),
            ));
        };
        let params = &p[..close];
        (
            params,
            &p[close + 2..],
            kind.len() + 1 + params.chars().count() + 3,
        )
    } else {
        // `vectorize`, `hybrid_mode`…: an ordinary text query.
        return parse(input).map(Request::Text);
    };
    let lead = text.chars().take_while(|c| c.is_whitespace()).count();
    let text = text.trim();
    if text.is_empty() {
        return Err(err(text_col, format!("`{kind}:` needs text to search for")));
    }

    let mut k = DEFAULT_K;
    let mut min_similarity = None;
    let mut text_weight = 1.0;
    let mut vector_weight = 1.0;
    let mut depth = DEFAULT_DEPTH;
    let mut col = kind.len() + 2;
    let mut given: Vec<&str> = Vec::new();
    for part in params.split(',') {
        let part_col = col + (part.len() - part.trim_start().len());
        col += part.chars().count() + 1;
        let part = part.trim();
        if part.is_empty() && params.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(err(
                part_col,
                format!("expected `name=value`, found `{part}`"),
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if given.contains(&name) {
            return Err(err(
                part_col,
                format!("`{name}` is given twice; give each parameter once"),
            ));
        }
        given.push(name);
        let bad = |what: &str| {
            err(
                part_col,
                format!("`{name}` must be {what}, found `{value}`"),
            )
        };
        let number = || value.parse::<f64>().ok().filter(|v| v.is_finite());
        match (kind, name) {
            (_, "k") => {
                k = value
                    .parse::<usize>()
                    .ok()
                    .filter(|k| (1..=MAX_K).contains(k))
                    .ok_or_else(|| bad(&format!("a whole number from 1 to {MAX_K}")))?;
            }
            ("vector", "min") => {
                let v = number()
                    .filter(|v| (-1.0..=1.0).contains(v))
                    .ok_or_else(|| bad("a similarity from -1 to 1"))?;
                min_similarity = Some(v as f32);
            }
            ("hybrid", "text") => {
                text_weight = number()
                    .filter(|v| *v >= 0.0)
                    .ok_or_else(|| bad("a weight of 0 or more"))?;
            }
            ("hybrid", "vector") => {
                vector_weight = number()
                    .filter(|v| *v >= 0.0)
                    .ok_or_else(|| bad("a weight of 0 or more"))?;
            }
            ("hybrid", "depth") => {
                depth = value
                    .parse::<usize>()
                    .ok()
                    .filter(|d| (1..=10 * MAX_K).contains(d))
                    .ok_or_else(|| bad(&format!("a whole number from 1 to {}", 10 * MAX_K)))?;
            }
            _ => {
                let known = if kind == "vector" {
                    "k, min"
                } else {
                    "k, text, vector, depth"
                };
                return Err(err(
                    part_col,
                    format!("unknown `{kind}` parameter `{name}` (known: {known})"),
                ));
            }
        }
    }
    if kind == "vector" {
        return Ok(Request::Vector(VectorQuery {
            text: text.to_owned(),
            k,
            min_similarity,
        }));
    }
    if text_weight == 0.0 && vector_weight == 0.0 {
        return Err(err(
            kind.len() + 2,
            "the two weights cannot both be 0".into(),
        ));
    }
    let offset = text_col - 1 + lead;
    let query = parse(text).map_err(|e| QueryError {
        column: e.column + offset,
        message: e.message,
    })?;
    Ok(Request::Hybrid(HybridQuery {
        text: text.to_owned(),
        query,
        k,
        text_weight,
        vector_weight,
        depth,
    }))
}

/// Fused score of a document at 1-based ranks in the two rankings (absent: not ranked).
pub fn rrf_score(
    text_rank: Option<usize>,
    vector_rank: Option<usize>,
    text_weight: f64,
    vector_weight: f64,
) -> f64 {
    let part = |r: Option<usize>, w: f64| r.map_or(0.0, |r| w / (RRF_K + r as f64));
    part(text_rank, text_weight) + part(vector_rank, vector_weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(q: &str) -> VectorQuery {
        match parse_request(q).unwrap() {
            Request::Vector(v) => v,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prefixes_and_parameters() {
        let v = vector("vector: error handling ");
        assert_eq!(
            (v.text.as_str(), v.k, v.min_similarity),
            ("error handling", 10, None)
        );
        let v = vector("vector(k=3, min=0.25): open a file");
        assert_eq!((v.k, v.min_similarity), (3, Some(0.25)));
        match parse_request("hybrid(k=5,text=2,vector=0.5): Result<T, E>").unwrap() {
            Request::Hybrid(h) => {
                assert_eq!(h.query, Query::Literal("Result<T, E>".into()));
                assert_eq!((h.k, h.text_weight, h.vector_weight), (5, 2.0, 0.5));
                assert_eq!(h.depth, DEFAULT_DEPTH);
            }
            other => panic!("{other:?}"),
        }
        // Not a prefix: text queries.
        for q in [
            "vectorize",
            "hybrid_mode(x)",
            "lit:vector: x",
            "my vector: x",
        ] {
            assert!(matches!(parse_request(q), Ok(Request::Text(_))), "{q}");
        }
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse_request("vector:   ").unwrap_err();
        assert_eq!(e.column, 8);
        let e = parse_request("vector(k=0): x").unwrap_err();
        assert_eq!((e.column, e.message.contains("from 1 to 1000")), (8, true));
        let e = parse_request("vector(k=2, zz=1): x").unwrap_err();
        assert_eq!(e.column, 13, "{e}");
        assert!(e.message.contains("unknown `vector` parameter `zz`"));
        let e = parse_request("hybrid(k=2: x").unwrap_err();
        assert_eq!(e.column, 7);
        let e = parse_request("hybrid(text=0, vector=0): x").unwrap_err();
        assert!(e.message.contains("both be 0"));
        let e = parse_request("vector(min=2): x").unwrap_err();
        assert!(e.message.contains("-1 to 1"), "{e}");
        // Given twice is an error, not "the last one wins" (issue #19).
        let e = parse_request("vector(k=1,k=2): x").unwrap_err();
        assert_eq!(e.column, 12, "{e}");
        assert!(e.message.contains("`k` is given twice"), "{e}");
        assert!(parse_request("hybrid(depth=5, text=1, depth=6): x").is_err());
        // The text of a hybrid query is a text query; its errors point into the whole string.
        let e = parse_request("hybrid: /(/").unwrap_err();
        assert!(e.column >= 9, "{e}");
    }

    #[test]
    fn rrf_follows_the_formula() {
        assert_eq!(rrf_score(Some(1), None, 1.0, 1.0), 1.0 / 61.0);
        assert_eq!(
            rrf_score(Some(2), Some(3), 2.0, 1.0),
            2.0 / 62.0 + 1.0 / 63.0
        );
        assert_eq!(rrf_score(None, None, 1.0, 1.0), 0.0);
    }
}
