//! trec_eval's measures by name: the families in trec_eval's order, their parameters, the
//! groups `-m` takes (`official`, `all_trec`, `set`), and how `-m` arguments are read.

use crate::input::EvalError;

/// A measure family, in trec_eval 9.0.8's order (`te_trec_measures` in `measures.c`): the
/// order of its output, whatever the order of `-m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    RunId,
    NumQ,
    NumRet,
    NumRel,
    NumRelRet,
    Map,
    GmMap,
    Rprec,
    Bpref,
    RecipRank,
    IprecAtRecall,
    P,
    Relstring,
    Recall,
    InfAp,
    GmBpref,
    RprecMult,
    Utility,
    ElevenPtAvg,
    BinG,
    G,
    Ndcg,
    NdcgRel,
    Rndcg,
    NdcgCut,
    MapCut,
    RelativeP,
    Success,
    SetP,
    SetRelativeP,
    SetRecall,
    SetMap,
    SetF,
    NumNonrelJudgedRet,
    Yaap,
}

/// What parameters a family takes (trec_eval's `te_init_meas_*` kinds).
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// No parameters.
    Single,
    /// Document cut-offs: positive whole numbers, sorted, no duplicates; one value each,
    /// printed `NAME_k`.
    Cutoffs(&'static [usize]),
    /// Fractional cut-offs, sorted, no duplicates; one value each, printed `NAME_x.xx`.
    FloatCutoffs(&'static [f64]),
    /// Numbers that shape one value, printed `NAME` (or `NAME_PARAMS` when given).
    Floats(&'static [f64]),
    /// `level=gain` pairs that replace the default gain (the grade itself) of those levels;
    /// one value, printed `NAME` (or `NAME_PARAMS`).
    Gains,
}

const CUTOFFS: &[usize] = &[5, 10, 15, 20, 30, 100, 200, 500, 1000];
const RECALL_LEVELS: &[f64] = &[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// (family, name, parameters)
const FAMILIES: &[(Family, &str, Kind)] = &[
    (Family::RunId, "runid", Kind::Single),
    (Family::NumQ, "num_q", Kind::Single),
    (Family::NumRet, "num_ret", Kind::Single),
    (Family::NumRel, "num_rel", Kind::Single),
    (Family::NumRelRet, "num_rel_ret", Kind::Single),
    (Family::Map, "map", Kind::Single),
    (Family::GmMap, "gm_map", Kind::Single),
    (Family::Rprec, "Rprec", Kind::Single),
    (Family::Bpref, "bpref", Kind::Single),
    (Family::RecipRank, "recip_rank", Kind::Single),
    (
        Family::IprecAtRecall,
        "iprec_at_recall",
        Kind::FloatCutoffs(RECALL_LEVELS),
    ),
    (Family::P, "P", Kind::Cutoffs(CUTOFFS)),
    (Family::Relstring, "relstring", Kind::Floats(&[10.0])),
    (Family::Recall, "recall", Kind::Cutoffs(CUTOFFS)),
    (Family::InfAp, "infAP", Kind::Single),
    (Family::GmBpref, "gm_bpref", Kind::Single),
    (
        Family::RprecMult,
        "Rprec_mult",
        Kind::FloatCutoffs(&[0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0]),
    ),
    (
        Family::Utility,
        "utility",
        Kind::Floats(&[1.0, -1.0, 0.0, 0.0]),
    ),
    (Family::ElevenPtAvg, "11pt_avg", Kind::Floats(RECALL_LEVELS)),
    (Family::BinG, "binG", Kind::Single),
    (Family::G, "G", Kind::Gains),
    (Family::Ndcg, "ndcg", Kind::Gains),
    (Family::NdcgRel, "ndcg_rel", Kind::Gains),
    (Family::Rndcg, "Rndcg", Kind::Gains),
    (Family::NdcgCut, "ndcg_cut", Kind::Cutoffs(CUTOFFS)),
    (Family::MapCut, "map_cut", Kind::Cutoffs(CUTOFFS)),
    (Family::RelativeP, "relative_P", Kind::Cutoffs(CUTOFFS)),
    (Family::Success, "success", Kind::Cutoffs(&[1, 5, 10])),
    (Family::SetP, "set_P", Kind::Single),
    (Family::SetRelativeP, "set_relative_P", Kind::Single),
    (Family::SetRecall, "set_recall", Kind::Single),
    (Family::SetMap, "set_map", Kind::Single),
    (Family::SetF, "set_F", Kind::Floats(&[1.0])),
    (
        Family::NumNonrelJudgedRet,
        "num_nonrel_judged_ret",
        Kind::Single,
    ),
    (Family::Yaap, "yaap", Kind::Single),
];

/// trec_eval's `official` group (its default).
const OFFICIAL: &[&str] = &[
    "runid",
    "num_q",
    "num_ret",
    "num_rel",
    "num_rel_ret",
    "map",
    "gm_map",
    "Rprec",
    "bpref",
    "recip_rank",
    "iprec_at_recall",
    "P",
];

/// trec_eval's `set` group: measures of the retrieved set, not of its order.
const SET: &[&str] = &[
    "runid",
    "num_q",
    "num_ret",
    "num_rel",
    "num_rel_ret",
    "utility",
    "set_P",
    "set_recall",
    "set_relative_P",
    "set_map",
    "set_F",
];

/// Measures trec_eval 9.0.8 computes only from other inputs than qrels and a run: preference
/// judgments (`-R prefs`) or judgment groups (`-R qrels_jg`). `-m` names them to say so.
const OTHER_INPUTS: &[&str] = &[
    "all_prefs",
    "prefs",
    "qrels_jg",
    "prefs_num_prefs_poss",
    "prefs_num_prefs_ful",
    "prefs_num_prefs_ful_ret",
    "prefs_simp",
    "prefs_pair",
    "prefs_avgjg",
    "prefs_avgjg_Rnonrel",
    "prefs_simp_ret",
    "prefs_pair_ret",
    "prefs_avgjg_ret",
    "prefs_avgjg_Rnonrel_ret",
    "prefs_simp_imp",
    "prefs_pair_imp",
    "prefs_avgjg_imp",
    "map_avgjg",
    "P_avgjg",
    "Rprec_mult_avgjg",
];

/// A family's parameters as chosen.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Params {
    None,
    Cutoffs(Vec<usize>),
    FloatCutoffs(Vec<f64>),
    Floats(Vec<f64>),
    /// (level, gain)
    Gains(Vec<(i64, f64)>),
}

/// One printed value: a family and, for cut-off families, which cut-off.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub(crate) family: Family,
    /// The printed name (`P_10`, `iprec_at_recall_0.30`, `utility_1,-2,0,0`).
    pub name: String,
    /// The cut-off of this value (cut-off families), else 0.
    pub(crate) cutoff: f64,
}

impl Measure {
    /// Only in the `all` summary (not per query).
    pub(crate) fn summary_only(&self) -> bool {
        matches!(
            self.family,
            Family::RunId | Family::NumQ | Family::GmMap | Family::GmBpref
        )
    }
}

/// A chosen family with its parameters and the values it prints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chosen {
    pub family: Family,
    pub params: Params,
    /// Positions of its values in [`MeasureSelection::measures`].
    pub range: std::ops::Range<usize>,
}

/// Which measures to compute, in trec_eval's order.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSelection {
    /// Every printed value, in output order.
    pub measures: Vec<Measure>,
    pub(crate) chosen: Vec<Chosen>,
}

fn family(name: &str) -> Option<(Family, Kind)> {
    FAMILIES
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(f, _, k)| (*f, *k))
}

fn name_of(f: Family) -> &'static str {
    FAMILIES
        .iter()
        .find(|(g, _, _)| *g == f)
        .map(|(_, n, _)| *n)
        .expect("every family is listed")
}

fn kind_of(f: Family) -> Kind {
    FAMILIES
        .iter()
        .find(|(g, _, _)| *g == f)
        .map(|(_, _, k)| *k)
        .expect("every family is listed")
}

/// Reads `-m NAME.PARAMS` parameters for a family of `kind`, as trec_eval does (sorted
/// cut-offs, no duplicates), but strictly: what is not a number is an error.
fn parse_params(spec: &str, f: Family, kind: Kind, raw: &str) -> Result<Params, EvalError> {
    let bad = || EvalError::BadParameter(spec.to_string());
    let floats = || -> Result<Vec<f64>, EvalError> {
        raw.split(',')
            .map(|x| x.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(bad)
    };
    match kind {
        Kind::Single => Err(bad()),
        Kind::Cutoffs(_) => {
            let mut v = raw
                .split(',')
                .map(|x| x.trim().parse::<usize>().ok().filter(|v| *v >= 1))
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(bad)?;
            v.sort_unstable();
            if v.windows(2).any(|w| w[0] == w[1]) {
                return Err(EvalError::DuplicateCutoffs(spec.to_string()));
            }
            Ok(Params::Cutoffs(v))
        }
        Kind::FloatCutoffs(_) => {
            let mut v = floats()?;
            // Stricter than trec_eval, which takes any number: recall levels lie in [0, 1],
            // multiples of R are positive.
            let ok = |x: &f64| match f {
                Family::IprecAtRecall => (0.0..=1.0).contains(x),
                _ => *x > 0.0,
            };
            if !v.iter().all(ok) {
                return Err(bad());
            }
            v.sort_by(f64::total_cmp);
            if v.windows(2).any(|w| w[0] == w[1]) {
                return Err(EvalError::DuplicateCutoffs(spec.to_string()));
            }
            Ok(Params::FloatCutoffs(v))
        }
        Kind::Floats(_) => {
            let v = floats()?;
            // utility's four coefficients, set_F's beta, relstring's length; 11pt_avg's
            // recall levels, as many as given.
            let wanted = match f {
                Family::Utility => Some(4),
                Family::SetF | Family::Relstring => Some(1),
                _ => None,
            };
            if wanted.is_some_and(|n| n != v.len()) {
                return Err(bad());
            }
            Ok(Params::Floats(v))
        }
        Kind::Gains => raw
            .split(',')
            .map(|pair| {
                let (l, g) = pair.split_once('=')?;
                Some((l.trim().parse::<i64>().ok()?, g.trim().parse::<f64>().ok()?))
            })
            .collect::<Option<Vec<_>>>()
            .map(Params::Gains)
            .ok_or_else(bad),
    }
}

/// Adds the cut-offs of `params` to those of `f` in `families` (sorted, once each).
fn chosen_singles(families: &mut Vec<(Family, Params)>, f: Family, params: Params) {
    let Some((_, have)) = families.iter_mut().find(|(g, _)| *g == f) else {
        families.push((f, params));
        return;
    };
    match (have, params) {
        (Params::Cutoffs(x), Params::Cutoffs(y)) => {
            x.extend(y);
            x.sort_unstable();
            x.dedup();
        }
        (Params::FloatCutoffs(x), Params::FloatCutoffs(y)) => {
            x.extend(y);
            x.sort_by(f64::total_cmp);
            x.dedup();
        }
        _ => {}
    }
}

fn defaults(kind: Kind) -> Params {
    match kind {
        Kind::Single => Params::None,
        Kind::Cutoffs(d) => Params::Cutoffs(d.to_vec()),
        Kind::FloatCutoffs(d) => Params::FloatCutoffs(d.to_vec()),
        Kind::Floats(d) => Params::Floats(d.to_vec()),
        Kind::Gains => Params::Gains(Vec::new()),
    }
}

/// The printed values of a family with `params` (`raw`: the parameters as given, which
/// trec_eval appends to the name of a one-value family).
fn printed(f: Family, params: &Params, raw: Option<&str>) -> Vec<Measure> {
    let base = name_of(f);
    let one = |name: String, cutoff: f64| Measure {
        family: f,
        name,
        cutoff,
    };
    match params {
        Params::Cutoffs(v) => v
            .iter()
            .map(|k| one(format!("{base}_{k}"), *k as f64))
            .collect(),
        Params::FloatCutoffs(v) => v
            .iter()
            .map(|x| one(format!("{base}_{x:.2}"), *x))
            .collect(),
        _ => vec![one(
            match raw {
                Some(r) => format!("{base}_{r}"),
                None => base.to_string(),
            },
            0.0,
        )],
    }
}

impl MeasureSelection {
    fn of(mut families: Vec<(Family, Params, Option<String>)>) -> Self {
        families.sort_by_key(|(f, _, _)| *f);
        let mut measures = Vec::new();
        let mut chosen = Vec::new();
        for (f, params, raw) in families {
            let start = measures.len();
            measures.extend(printed(f, &params, raw.as_deref()));
            chosen.push(Chosen {
                family: f,
                params,
                range: start..measures.len(),
            });
        }
        MeasureSelection { measures, chosen }
    }

    fn group(names: &[&str]) -> Self {
        Self::of(
            names
                .iter()
                .map(|n| {
                    let (f, k) = family(n).expect("groups name known families");
                    (f, defaults(k), None)
                })
                .collect(),
        )
    }

    /// trec_eval's `all_trec`: every measure it computes from qrels and a run (all but
    /// `yaap`, which must be asked for by name).
    pub fn all_trec() -> Self {
        Self::of(
            FAMILIES
                .iter()
                .filter(|(f, _, _)| *f != Family::Yaap)
                .map(|(f, _, k)| (*f, defaults(*k), None))
                .collect(),
        )
    }

    /// trec_eval's default output.
    pub fn official() -> Self {
        Self::group(OFFICIAL)
    }

    /// Parses `-m` values: a group (`official`, `all_trec`, `set`), a family (`P`), a family
    /// with parameters (`P.5,10`, `ndcg_cut.10`, `utility.1,-2,0,0`, `ndcg.1=3,2=9`), or one
    /// printed name (`P_10`, `iprec_at_recall_0.50`). As in trec_eval, the first parameters
    /// given for a family are the ones used.
    pub fn parse(specs: &[String]) -> Result<Self, EvalError> {
        if specs.is_empty() {
            return Ok(Self::official());
        }
        // family → (params, raw params as given), in the order first met.
        let mut chosen: Vec<(Family, Option<(Params, String)>)> = Vec::new();
        // Single printed values asked for by name (`P_10`), per family.
        let mut singles: Vec<(Family, Measure)> = Vec::new();
        let mut single_families: Vec<(Family, Params)> = Vec::new();
        let mut add =
            |f: Family, p: Option<(Params, String)>| match chosen.iter_mut().find(|(g, _)| *g == f)
            {
                Some(e) => {
                    if e.1.is_none() {
                        e.1 = p;
                    }
                }
                None => chosen.push((f, p)),
            };
        for spec in specs {
            let spec_str = spec.as_str();
            let group: Option<Vec<&str>> = match spec_str {
                "all_trec" => Some(
                    FAMILIES
                        .iter()
                        .filter(|(f, _, _)| *f != Family::Yaap)
                        .map(|(_, n, _)| *n)
                        .collect(),
                ),
                "official" => Some(OFFICIAL.to_vec()),
                "set" => Some(SET.to_vec()),
                _ => None,
            };
            if let Some(names) = group {
                for n in names {
                    add(family(n).expect("known").0, None);
                }
                continue;
            }
            let base = spec_str.split_once('.').map_or(spec_str, |(b, _)| b);
            if OTHER_INPUTS.contains(&base) {
                return Err(EvalError::OtherInput(spec.clone()));
            }
            if let Some((b, raw)) = spec_str.split_once('.') {
                if let Some((f, k)) = family(b) {
                    add(
                        f,
                        Some((parse_params(spec_str, f, k, raw)?, raw.to_string())),
                    );
                    continue;
                }
            }
            if let Some((f, _)) = family(spec_str) {
                add(f, None);
                continue;
            }
            // A single printed name of a family with default cut-offs, such as P_10.
            let found = FAMILIES.iter().find_map(|(f, _, k)| {
                printed(*f, &defaults(*k), None)
                    .into_iter()
                    .find(|m| &m.name == spec)
                    .filter(|_| matches!(k, Kind::Cutoffs(_) | Kind::FloatCutoffs(_)))
                    .map(|m| (*f, m))
            });
            match found {
                Some((f, m)) => {
                    if !singles.iter().any(|(g, n)| *g == f && n.name == m.name) {
                        singles.push((f, m));
                    }
                }
                None => return Err(EvalError::UnknownMeasure(spec.clone())),
            }
        }
        // Single names of a family not otherwise chosen make its cut-offs.
        for (f, m) in singles {
            if chosen.iter().any(|(g, _)| *g == f) {
                continue;
            }
            let params = match kind_of(f) {
                Kind::Cutoffs(_) => Params::Cutoffs(vec![m.cutoff as usize]),
                _ => Params::FloatCutoffs(vec![m.cutoff]),
            };
            chosen_singles(&mut single_families, f, params);
        }
        chosen.extend(
            single_families
                .into_iter()
                .map(|(f, p)| (f, Some((p, String::new())))),
        );
        Ok(Self::of(
            chosen
                .into_iter()
                .map(|(f, p)| match p {
                    Some((params, raw)) => {
                        // Cut-off families print one name per cut-off, whatever was given.
                        let raw = match params {
                            Params::Cutoffs(_) | Params::FloatCutoffs(_) => None,
                            _ => Some(raw),
                        };
                        (f, params, raw)
                    }
                    None => (f, defaults(kind_of(f)), None),
                })
                .collect(),
        ))
    }

    /// Names of every family `-m` accepts, for help text.
    pub fn family_names() -> Vec<&'static str> {
        FAMILIES.iter().map(|(_, n, _)| *n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(specs: &[&str]) -> Vec<String> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        MeasureSelection::parse(&specs)
            .unwrap()
            .measures
            .into_iter()
            .map(|m| m.name)
            .collect()
    }

    #[test]
    fn selections_follow_trec_eval_order_and_syntax() {
        // Cut-offs are sorted, as trec_eval sorts them.
        assert_eq!(names(&["P.10,5", "map"]), ["map", "P_5", "P_10"]);
        assert_eq!(names(&["ndcg_cut.3"]), ["ndcg_cut_3"]);
        assert_eq!(names(&["iprec_at_recall.0.5"]), ["iprec_at_recall_0.50"]);
        assert_eq!(names(&["P_10", "P.10"]), ["P_10"]);
        assert_eq!(names(&["P_10", "P_5"]), ["P_5", "P_10"]);
        // One-value families print their parameters as given.
        assert_eq!(names(&["utility.1,-2,0,0"]), ["utility_1,-2,0,0"]);
        assert_eq!(names(&["set_F.0.5", "yaap"]), ["set_F_0.5", "yaap"]);
        assert_eq!(names(&["ndcg.1=3,2=9"]), ["ndcg_1=3,2=9"]);
        // The first parameters of a family win.
        assert_eq!(names(&["P.3", "P.7"]), ["P_3"]);
        assert_eq!(
            names(&[]).len(),
            MeasureSelection::official().measures.len()
        );
        assert_eq!(names(&["set"]).len(), 11);
        assert!(!names(&["all_trec"]).contains(&"yaap".to_string()));
    }

    #[test]
    fn bad_measures_and_parameters_are_errors() {
        for bad in [
            "mapp",
            "P.x",
            "P.0",
            "P.-5",
            "P.2.5",
            "recall.",
            "map.5",
            "utility.1,2",
            "ndcg.1:3",
            "P.5,5",
            "iprec_at_recall.0.5,0.5",
            "iprec_at_recall.1.5",
            "Rprec_mult.0",
            "prefs_simp",
            "map_avgjg",
        ] {
            let e = MeasureSelection::parse(&[bad.to_string()]).unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }
}
