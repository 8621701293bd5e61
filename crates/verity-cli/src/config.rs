//! `verity.toml`: named profiles of `verity validate` settings.
//!
//! ```toml
//! [profile.default]
//! jobs = 4
//! min-accuracy = 100
//!
//! [profile.ci]            # starts from `default`, then overrides
//! fail-fast = false
//! max-fail = 20
//! format = ["json", "junit", "md"]
//! ```
//!
//! Precedence: built-in defaults, then `[profile.default]`, then the chosen profile, then
//! command-line flags. Relative paths in the file are relative to the file's directory.
//! Unknown keys are errors (a typo must not silently change nothing).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::Failure;

/// The accuracy threshold: one percentage for every type, or one per type name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum MinAccuracy {
    All(f64),
    PerType(BTreeMap<String, f64>),
}

/// One profile; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    pub corpus: Option<PathBuf>,
    pub truth: Option<PathBuf>,
    pub index: Option<PathBuf>,
    pub cases: Option<usize>,
    pub seed: Option<u64>,
    #[serde(default, deserialize_with = "jobs")]
    pub jobs: Option<usize>,
    #[serde(default, deserialize_with = "seconds")]
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    pub history: Option<PathBuf>,
    pub repeat: Option<usize>,
    pub max_fail: Option<usize>,
    pub fail_fast: Option<bool>,
    pub min_accuracy: Option<MinAccuracy>,
    #[serde(default, deserialize_with = "fraction")]
    pub min_recall: Option<f64>,
    pub vector_search: Option<String>,
    pub backend: Option<String>,
    pub partition: Option<String>,
    pub output: Option<PathBuf>,
    pub format: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub max_rss: Option<String>,
    #[serde(default, deserialize_with = "seconds")]
    pub global_timeout: Option<f64>,
    #[serde(default, deserialize_with = "seconds")]
    pub progress_interval: Option<f64>,
}

/// The most workers `jobs` takes: far past any machine's cores, short of exhausting threads.
pub const MAX_JOBS: usize = 1024;

// Range checks while the file is read, so that a bad value is reported at its line and column
// in verity.toml (after merging with flags, where it came from is lost).

fn jobs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let v = usize::deserialize(d)?;
    if (1..=MAX_JOBS).contains(&v) {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!(
            "jobs must be between 1 and {MAX_JOBS}, not {v}"
        )))
    }
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if v.is_finite() && v > 0.0 && v <= verity_core::MAX_SECONDS {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!(
            "must be a positive number of seconds, at most {}, not {}",
            verity_core::MAX_SECONDS,
            readable(v)
        )))
    }
}

fn fraction<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!(
            "must be between 0 and 1, not {}",
            readable(v)
        )))
    }
}

/// A number as a person writes it: `1e300`, not three hundred digits.
pub fn readable(v: f64) -> String {
    if v.is_finite() && (v.abs() >= 1e15 || (v != 0.0 && v.abs() < 1e-6)) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profile: BTreeMap<String, Profile>,
}

impl Profile {
    /// `other`'s keys win over `self`'s.
    fn overlay(self, other: Profile) -> Profile {
        macro_rules! pick {
            ($($f:ident),*) => { Profile { $($f: other.$f.or(self.$f)),* } };
        }
        pick!(
            corpus,
            truth,
            index,
            cases,
            seed,
            jobs,
            timeout,
            retries,
            history,
            repeat,
            max_fail,
            fail_fast,
            min_accuracy,
            min_recall,
            vector_search,
            backend,
            partition,
            output,
            format,
            types,
            tags,
            max_rss,
            global_timeout,
            progress_interval
        )
    }

    fn resolve_paths(mut self, base: &Path) -> Profile {
        for p in [
            &mut self.corpus,
            &mut self.truth,
            &mut self.index,
            &mut self.history,
            &mut self.output,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        self
    }
}

/// The file to read: `--config`, else `verity.toml` in the current directory if there is one.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = PathBuf::from("verity.toml");
            p.is_file().then_some(p)
        }
    }
}

/// The settings of `profile` from `file` (default + the profile). Without a file only the
/// `default` profile may be asked for (it is then empty).
pub fn load(file: Option<&Path>, profile: &str) -> Result<Profile, Failure> {
    let Some(file) = file else {
        if profile == "default" {
            return Ok(Profile::default());
        }
        return Err(Failure::input(format!(
            "profile `{profile}` asked for, but there is no config file (verity.toml or --config)"
        )));
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    parse(&text, file, profile)
}

pub fn parse(text: &str, file: &Path, profile: &str) -> Result<Profile, Failure> {
    let cfg: ConfigFile = toml::from_str(text).map_err(|e| {
        // toml reports a byte span; turn it into line:column like every other input error.
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        Failure::input(format!("{}:{line}:{col}: {}", file.display(), e.message()))
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    let default = cfg.profile.get("default").cloned().unwrap_or_default();
    if profile == "default" {
        return Ok(default.resolve_paths(base));
    }
    let Some(chosen) = cfg.profile.get(profile).cloned() else {
        let known: Vec<&str> = cfg.profile.keys().map(String::as_str).collect();
        return Err(Failure::input(format!(
            "{}: no profile `{profile}` (profiles: {})",
            file.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    Ok(default.overlay(chosen).resolve_paths(base))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

/// Parses a memory size: bytes, or with a K, M, G or T suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("`{s}`: unknown size suffix `{c}` (K, M, G or T)")),
            };
            (&t[..i], mult)
        }
        _ => (t, 1),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (for example 2G or 512M)"))?;
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("`{s}`: the size must be positive"));
    }
    Ok((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_inherit_from_default_and_resolve_paths() {
        let text = "[profile.default]\njobs = 4\ncorpus = \"src\"\nmin-accuracy = 99.5\n\n[profile.ci]\njobs = 2\nfail-fast = true\nmin-accuracy = { Regex = 90 }\n";
        let p = parse(text, Path::new("/repo/verity.toml"), "ci").unwrap();
        assert_eq!(p.jobs, Some(2));
        assert_eq!(p.fail_fast, Some(true));
        assert_eq!(p.corpus, Some(PathBuf::from("/repo/src")));
        assert_eq!(
            p.min_accuracy,
            Some(MinAccuracy::PerType(BTreeMap::from([(
                "Regex".to_string(),
                90.0
            )])))
        );
        let d = parse(text, Path::new("/repo/verity.toml"), "default").unwrap();
        assert_eq!((d.jobs, d.fail_fast), (Some(4), None));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse(
            "[profile.default]\njobs = 4\nfail-fsat = true\n",
            Path::new("v.toml"),
            "default",
        )
        .unwrap_err();
        assert!(e.message.starts_with("v.toml:3:1: "), "{}", e.message);
        assert!(e.message.contains("fail-fsat"), "{}", e.message);
        let e = parse(
            "[profile.default]\njobs = \"four\"\n",
            Path::new("v.toml"),
            "default",
        )
        .unwrap_err();
        assert!(e.message.starts_with("v.toml:2:8: "), "{}", e.message);
        let e = parse("[profile.default]\n", Path::new("v.toml"), "nightly").unwrap_err();
        assert!(e.message.contains("no profile `nightly`"), "{}", e.message);
        assert!(load(None, "ci").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("M").is_err());
    }
}
