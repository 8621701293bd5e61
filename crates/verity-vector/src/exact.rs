//! Exact k-nearest-neighbour search by cosine similarity: every vector is scored. The
//! reference for approximate indexes (recall@k is measured against it) and the ground truth of
//! Vector cases.

/// The `k` vectors most similar to `query`: (index, cosine similarity), best first; ties go to
/// the lower index. Vectors of another length than the query are skipped; a zero vector has
/// similarity 0 with everything.
pub fn knn(query: &[f32], vectors: &[Vec<f32>], k: usize) -> Vec<(usize, f32)> {
    let qn = norm(query);
    let mut scored: Vec<(usize, f32)> = vectors
        .iter()
        .enumerate()
        .filter(|(_, v)| v.len() == query.len())
        .map(|(i, v)| (i, cosine(query, qn, v)))
        .collect();
    let by_rank = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if k < scored.len() {
        scored.select_nth_unstable_by(k, by_rank);
        scored.truncate(k);
    }
    scored.sort_by(by_rank);
    scored
}

/// Cosine similarity of two vectors, accumulated in `f64` as [`knn`] does; 0 when either is
/// zero or their lengths differ.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    cosine(a, norm(a), b)
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

fn cosine(q: &[f32], qn: f64, v: &[f32]) -> f32 {
    let vn = norm(v);
    if qn == 0.0 || vn == 0.0 {
        return 0.0;
    }
    let dot: f64 = q
        .iter()
        .zip(v)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    (dot / (qn * vn)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nearest_first_ties_by_index() {
        let vs = vec![
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![1.0, 1.0],
            vec![2.0, 0.0],
            vec![0.0, 0.0],
        ];
        let r = knn(&[1.0, 0.0], &vs, 3);
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 3, 2]);
        assert!((r[2].1 - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(knn(&[1.0, 0.0], &vs, 0), []);
        assert_eq!(
            knn(&[1.0, 0.0, 0.0], &vs, 2),
            [],
            "other lengths are skipped"
        );
    }

    proptest! {
        /// knn(k) is the first k of the full ranking.
        #[test]
        fn top_k_is_a_prefix_of_the_full_ranking(
            vs in proptest::collection::vec(proptest::collection::vec(-1.0f32..1.0, 4), 0..60),
            q in proptest::collection::vec(-1.0f32..1.0, 4),
            k in 0usize..70,
        ) {
            let all = knn(&q, &vs, usize::MAX);
            prop_assert_eq!(all.len(), vs.len());
            prop_assert_eq!(knn(&q, &vs, k), all[..k.min(all.len())].to_vec());
        }
    }
}
