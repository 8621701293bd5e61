//! Query types: the kinds of query a validation case exercises, named as in reports and
//! ground truth (docs/ground-truth.md).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of query a case exercises.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum QueryType {
    /// A literal full of punctuation (`Result<T, E>`, `&mut self`, `::`), matched exactly.
    SpecialCharacters,
    /// `a AND b`: files that contain every term.
    BooleanAnd,
    /// `a OR b`: files that contain any term.
    BooleanOr,
    /// `a NOT b`: files that contain the first term and not the second.
    BooleanNot,
    /// `a NEAR/n b`: both words within n words of each other.
    Proximity,
    /// `"a b c"`: the words in order, adjacent.
    Phrase,
    /// A pattern with `*` and `?` matched against whole code tokens.
    Wildcard,
    /// `regex:…`: a regular expression over each line.
    Regex,
    /// `vector:…`: the chunks nearest to the query's embedding.
    Vector,
    /// `hybrid:…`: text and vector rankings fused.
    Hybrid,
}

impl QueryType {
    /// Every query type, in report order.
    pub const ALL: [QueryType; 10] = [
        QueryType::SpecialCharacters,
        QueryType::BooleanAnd,
        QueryType::BooleanOr,
        QueryType::BooleanNot,
        QueryType::Proximity,
        QueryType::Phrase,
        QueryType::Wildcard,
        QueryType::Regex,
        QueryType::Vector,
        QueryType::Hybrid,
    ];

    /// The eight exact text query types.
    pub const TEXT: [QueryType; 8] = [
        QueryType::SpecialCharacters,
        QueryType::BooleanAnd,
        QueryType::BooleanOr,
        QueryType::BooleanNot,
        QueryType::Proximity,
        QueryType::Phrase,
        QueryType::Wildcard,
        QueryType::Regex,
    ];

    /// Scheduling priority when a case does not set its own.
    pub fn default_priority(self) -> Priority {
        match self {
            QueryType::SpecialCharacters
            | QueryType::BooleanAnd
            | QueryType::BooleanOr
            | QueryType::BooleanNot => Priority::High,
            QueryType::Proximity | QueryType::Phrase | QueryType::Wildcard | QueryType::Regex => {
                Priority::Normal
            }
            QueryType::Vector | QueryType::Hybrid => Priority::Low,
        }
    }

    /// Is the answer a ranking (scored by recall@k, nDCG@k) rather than an exact set?
    pub fn is_ranked(self) -> bool {
        matches!(self, QueryType::Vector | QueryType::Hybrid)
    }

    /// The name used in reports, ground truth and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            QueryType::SpecialCharacters => "SpecialCharacters",
            QueryType::BooleanAnd => "BooleanAnd",
            QueryType::BooleanOr => "BooleanOr",
            QueryType::BooleanNot => "BooleanNot",
            QueryType::Proximity => "Proximity",
            QueryType::Phrase => "Phrase",
            QueryType::Wildcard => "Wildcard",
            QueryType::Regex => "Regex",
            QueryType::Vector => "Vector",
            QueryType::Hybrid => "Hybrid",
        }
    }
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Scheduling priority of a case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Priority {
    /// Run first: cheap, exact text cases.
    High,
    /// The default.
    Normal,
    /// Run last: ranked cases, the most expensive.
    Low,
}

/// A name that is no query type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownQueryType(pub String);

impl fmt::Display for UnknownQueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = QueryType::ALL.iter().map(|t| t.name()).collect();
        write!(
            f,
            "unknown query type `{}` (expected one of {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownQueryType {}

/// A query type from its name, case-insensitively, with or without `_` / `-`
/// (`Regex`, `boolean_and`, `special-characters`).
impl FromStr for QueryType {
    type Err = UnknownQueryType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = |x: &str| x.to_lowercase().replace(['_', '-'], "");
        QueryType::ALL
            .into_iter()
            .find(|t| norm(t.name()) == norm(s))
            .ok_or_else(|| UnknownQueryType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_in_any_spelling() {
        for t in QueryType::ALL {
            assert_eq!(t.name().parse::<QueryType>(), Ok(t));
            assert_eq!(t.name().to_uppercase().parse::<QueryType>(), Ok(t));
        }
        assert_eq!("boolean_and".parse(), Ok(QueryType::BooleanAnd));
        assert_eq!(
            "special-characters".parse(),
            Ok(QueryType::SpecialCharacters)
        );
        let err = "fuzzy".parse::<QueryType>().unwrap_err();
        assert!(err.to_string().starts_with("unknown query type `fuzzy`"));
        assert!(err.to_string().contains("BooleanNot"));
    }
}
