//! Similarity kernels, the in-memory 1:N template index and the match decision.

use serde::{Deserialize, Serialize};

use crate::template::{Template, EMBEDDING_DIM};

/// Cosine similarity at or above which a probe is accepted as an enrolled user.
///
/// Chosen from `fio eval fixtures/labels.csv` (48 real photos, 16 people; MobileFaceNet on
/// 5-point ArcFace crops): genuine pairs scored 0.665–0.984 (185 pairs), impostor pairs at most
/// 0.377 (943 pairs). 0.55 sits in the gap, nearer the genuine side because a false accept is
/// worse than a retry, and leaves 0.17 of headroom over the worst impostor for larger galleries.
/// Re-checked on the validation split of `fixtures/recognition.csv` (`fio-eval recognition`:
/// expression, pose, small faces, a hand over the face; 56 genuine, 448 impostor pairs):
/// impostors reach 0.334, and every genuine pair under 0.55 is a hand over the nose, mouth or
/// eyes (6 pairs, 0.28–0.54). The lowest is under the worst impostor, and accepting the others
/// would leave under 0.02 over the worst stranger of 22 people, far too little for galleries of
/// thousands, so the threshold stays.
pub const MATCH_THRESHOLD: f32 = 0.55;

/// Accepted matches within this margin above the threshold must also confirm the PIN.
pub const PIN_MARGIN: f32 = 0.05;

/// Similarity at or above which an enrolling face counts as already enrolled.
///
/// Equal to the match threshold: a face that would authenticate as someone must not enroll again.
pub const DUPLICATE_THRESHOLD: f32 = MATCH_THRESHOLD;

/// Minimum similarity between any two frames of one enrollment.
///
/// Above the match threshold because frames of one session share camera, light and pose, so
/// genuine pairs score high; a lower pair means someone swapped faces mid-enrollment.
///
/// Measured on the fixtures' single-session series (cap12, cap13 video frames; franck frames with
/// head turns): within-session pairs scored ≥ 0.732 (111 pairs), different people ≤ 0.377.
pub const ENROLL_CONSISTENCY_THRESHOLD: f32 = 0.6;

/// Lanes of the integer accumulator; 16 × i32 fills two AVX2 or four SSE/wasm-simd registers.
const LANES: usize = 16;

/// Dot product of two f32 slices.
///
/// # Panics
/// If the lengths differ.
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot_f32 length mismatch");
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    // Independent partial sums let LLVM vectorise without reassociating float adds itself.
    let mut acc = [0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Cosine similarity of arbitrary (not necessarily normalised) f32 vectors; 0 if either is zero.
pub fn cosine_f32(a: &[f32], b: &[f32]) -> f32 {
    let denom = (dot_f32(a, a) * dot_f32(b, b)).sqrt();
    if denom > 0.0 {
        dot_f32(a, b) / denom
    } else {
        0.0
    }
}

/// Integer dot product of two i8 slices with i32 accumulation (cannot overflow below 131 072 dims).
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    assert_eq!(a.len(), b.len(), "dot_i8 length mismatch");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return wasm_simd::dot_i8(a, b);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    dot_i8_portable(a, b)
}

/// [`dot_i8`] in plain Rust: what it runs natively and in wasm without SIMD (LLVM vectorises
/// it natively; in wasm SIMD the dedicated kernel is 1.75× faster).
///
/// # Panics
/// If the lengths differ.
pub fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    assert_eq!(a.len(), b.len(), "dot_i8 length mismatch");
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail = scalar_dot_i8(ca.remainder(), cb.remainder());
    let mut acc = [0i32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += i32::from(x) * i32::from(y);
        }
    }
    acc.iter().sum::<i32>() + tail
}

/// The dot product of the few values after the last full vector.
#[inline(always)]
fn scalar_dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// The wasm SIMD kernel of [`dot_i8`]: sign-extend to i16 and `i32x4.dot_i16x8_s`, 8
/// multiply-adds per instruction. LLVM's own vectorisation of the portable loop widens to i32
/// and multiplies lane by lane. Timed in workerd on 100,000 templates (`bash
/// scripts/bench-dot-kernels.sh`): the shipped `TemplateIndex::search` 2.2 → 1.23 ms. Vectors are
/// built lane by lane (no `unsafe` `v128.load`; LLVM turns them into loads where it inlines).
/// Relaxed SIMD's `relaxed_dot_i8x16_i7x16` measured 0.28–1.55 ms depending on inlining but needs
/// one operand in 7 bits, and stored templates use 8: not used (see edge-worker/README.md).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd {
    use core::arch::wasm32::{
        i16x8_extend_high_i8x16, i16x8_extend_low_i8x16, i32x4_add, i32x4_dot_i16x8,
        i32x4_extract_lane, i32x4_splat, i8x16, v128,
    };

    #[inline(always)]
    fn vector(c: &[i8]) -> v128 {
        i8x16(
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13],
            c[14], c[15],
        )
    }

    #[inline(always)]
    pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
        let tail = super::scalar_dot_i8(ca.remainder(), cb.remainder());
        let mut acc = i32x4_splat(0);
        for (x, y) in ca.zip(cb) {
            let (va, vb) = (vector(x), vector(y));
            let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(va), i16x8_extend_low_i8x16(vb));
            let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(va), i16x8_extend_high_i8x16(vb));
            acc = i32x4_add(acc, i32x4_add(lo, hi));
        }
        i32x4_extract_lane::<0>(acc)
            + i32x4_extract_lane::<1>(acc)
            + i32x4_extract_lane::<2>(acc)
            + i32x4_extract_lane::<3>(acc)
            + tail
    }
}

/// Cosine of two quantised vectors given their inverse norms (see [`Template::inv_norm`]).
#[inline]
pub fn cosine_i8(a: &[i8], a_inv_norm: f32, b: &[i8], b_inv_norm: f32) -> f32 {
    dot_i8(a, b) as f32 * a_inv_norm * b_inv_norm
}

/// A search result: `(slot, similarity)`.
pub type Hit = (usize, f32);

/// Templates held contiguously (N × [`EMBEDDING_DIM`] int8) for cache-friendly 1:N scans.
///
/// Slots are dense `0..len()`; [`TemplateIndex::remove`] moves the last entry into the freed
/// slot, so slots are only stable between removals — keep identities in the `I` ids.
#[derive(Debug, Clone)]
pub struct TemplateIndex<I> {
    data: Vec<i8>,
    inv_norms: Vec<f32>,
    ids: Vec<I>,
}

impl<I> TemplateIndex<I> {
    /// An empty index.
    pub fn new() -> Self {
        Self {
            data: Vec::new(),
            inv_norms: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// Number of templates.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the index holds no templates.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends a template and returns its slot.
    pub fn add(&mut self, id: I, template: &Template) -> usize {
        self.data.extend_from_slice(template.values());
        self.inv_norms.push(template.inv_norm());
        self.ids.push(id);
        self.ids.len() - 1
    }

    /// Removes a slot (the last entry moves into it); `None` if out of range.
    pub fn remove(&mut self, slot: usize) -> Option<(I, Template)> {
        if slot >= self.len() {
            return None;
        }
        let template = self.template(slot)?;
        let last = self.len() - 1;
        if slot != last {
            self.data
                .copy_within(last * EMBEDDING_DIM.., slot * EMBEDDING_DIM);
        }
        self.data.truncate(last * EMBEDDING_DIM);
        self.inv_norms.swap_remove(slot);
        Some((self.ids.swap_remove(slot), template))
    }

    /// The id stored in a slot.
    pub fn id(&self, slot: usize) -> Option<&I> {
        self.ids.get(slot)
    }

    /// Bytes this index holds on the heap, not counting what the ids themselves own.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity()
            + self.inv_norms.capacity() * std::mem::size_of::<f32>()
            + self.ids.capacity() * std::mem::size_of::<I>()
    }

    /// All ids in slot order.
    pub fn ids(&self) -> &[I] {
        &self.ids
    }

    /// A copy of the template in a slot.
    pub fn template(&self, slot: usize) -> Option<Template> {
        let row = self
            .data
            .get(slot * EMBEDDING_DIM..(slot + 1) * EMBEDDING_DIM)?;
        Template::from_values(row.to_vec()).ok()
    }

    /// Similarity of the probe with every slot, in slot order.
    pub fn scores<'a>(&'a self, probe: &'a Template) -> impl Iterator<Item = f32> + 'a {
        self.data
            .chunks_exact(EMBEDDING_DIM)
            .zip(&self.inv_norms)
            .map(move |(row, &inv)| cosine_i8(probe.values(), probe.inv_norm(), row, inv))
    }

    /// The `k` most similar slots, best first; equal scores keep the lower slot first.
    pub fn search(&self, probe: &Template, k: usize) -> Vec<Hit> {
        let mut top: Vec<Hit> = Vec::with_capacity(k.min(self.len()) + 1);
        if k == 0 {
            return top;
        }
        for (slot, score) in self.scores(probe).enumerate() {
            if top.len() == k && score <= top[k - 1].1 {
                continue;
            }
            let at = top.partition_point(|&(_, s)| s >= score);
            top.insert(at, (slot, score));
            top.truncate(k);
        }
        top
    }

    /// Best and second-best slots, for collision detection in [`decide_match`].
    pub fn best_two(&self, probe: &Template) -> (Option<Hit>, Option<Hit>) {
        let top = self.search(probe, 2);
        (top.first().copied(), top.get(1).copied())
    }

    /// The most similar slot if it reaches `threshold` (enrollment duplicate check).
    pub fn find_duplicate(&self, probe: &Template, threshold: f32) -> Option<Hit> {
        self.search(probe, 1)
            .into_iter()
            .find(|&(_, s)| s >= threshold)
    }
}

// Manual impl: derive would demand `I: Default` for no reason.
impl<I> Default for TemplateIndex<I> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: PartialEq> TemplateIndex<I> {
    /// The slot holding `id`, if any (linear scan).
    pub fn position(&self, id: &I) -> Option<usize> {
        self.ids.iter().position(|x| x == id)
    }

    /// Removes the entry with `id`.
    pub fn remove_id(&mut self, id: &I) -> Option<Template> {
        let slot = self.position(id)?;
        self.remove(slot).map(|(_, t)| t)
    }
}

/// Thresholds for turning similarity scores into a match outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchPolicy {
    /// Minimum similarity to accept.
    pub threshold: f32,
    /// Width of the band above `threshold` in which a PIN is also required.
    pub pin_margin: f32,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self {
            threshold: MATCH_THRESHOLD,
            pin_margin: PIN_MARGIN,
        }
    }
}

/// Why an accepted match must also be confirmed with the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PinReason {
    /// The best score is within `pin_margin` of the threshold.
    NearThreshold,
    /// Two or more enrolled users are above the threshold; the PIN picks the right one.
    Collision,
    /// The application always asks for the PIN (`alwaysAskPin`); never produced by [`decide_match`].
    AlwaysAsk,
}

/// Result of a 1:N match.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchOutcome<I> {
    /// Nobody is similar enough.
    Unrecognized,
    /// Confidently matched.
    Accepted {
        /// The matched user.
        id: I,
    },
    /// Matched, but the PIN must confirm it.
    AcceptedNeedsPin {
        /// The best-scoring user. On a collision the edge should check the PIN against every
        /// candidate above the threshold (from [`TemplateIndex::search`]), not just this one.
        id: I,
        /// Why the PIN is needed.
        reason: PinReason,
    },
}

/// Decides the outcome from the best and second-best `(id, score)` of a search.
///
/// Scores exactly at the threshold are accepted; a collision outranks a near-threshold score.
pub fn decide_match<I>(
    best: Option<(I, f32)>,
    second: Option<(I, f32)>,
    policy: &MatchPolicy,
) -> MatchOutcome<I> {
    // Filtering on `>=` means a NaN score is rejected, never accepted.
    let Some((id, score)) = best.filter(|(_, s)| *s >= policy.threshold) else {
        return MatchOutcome::Unrecognized;
    };
    if second.is_some_and(|(_, s)| s >= policy.threshold) {
        MatchOutcome::AcceptedNeedsPin {
            id,
            reason: PinReason::Collision,
        }
    } else if score < policy.threshold + policy.pin_margin {
        MatchOutcome::AcceptedNeedsPin {
            id,
            reason: PinReason::NearThreshold,
        }
    } else {
        MatchOutcome::Accepted { id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::{blend, test_embedding};

    fn naive_dot(a: &[i8], b: &[i8]) -> i32 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum()
    }

    #[test]
    fn dot_i8_matches_naive_including_tails_and_extremes() {
        for len in [0, 1, 15, 16, 17, 33, 192] {
            let a: Vec<i8> = (0..len).map(|i| (i * 37 % 255) as u8 as i8).collect();
            let b: Vec<i8> = (0..len).map(|i| (i * 91 % 253) as u8 as i8).collect();
            assert_eq!(dot_i8(&a, &b), naive_dot(&a, &b), "len {len}");
        }
        let min = vec![i8::MIN; EMBEDDING_DIM];
        assert_eq!(dot_i8(&min, &min), 128 * 128 * EMBEDDING_DIM as i32);
    }

    #[test]
    fn dot_f32_and_cosine() {
        let a: Vec<f32> = (0..37).map(|i| i as f32).collect();
        let naive: f32 = a.iter().map(|x| x * x).sum();
        assert!((dot_f32(&a, &a) - naive).abs() < 1e-2);
        assert!((cosine_f32(&a, &a) - 1.0).abs() < 1e-6);
        let neg: Vec<f32> = a.iter().map(|x| -2.0 * x).collect();
        assert!((cosine_f32(&a, &neg) + 1.0).abs() < 1e-6);
        assert_eq!(cosine_f32(&[0.0; 3], &[1.0; 3]), 0.0);
    }

    #[test]
    #[should_panic(expected = "length mismatch")]
    fn dot_panics_on_length_mismatch() {
        dot_i8(&[1, 2], &[1]);
    }

    fn index_of(seeds: &[u64]) -> TemplateIndex<String> {
        let mut idx = TemplateIndex::new();
        for &s in seeds {
            idx.add(format!("user{s}"), &test_embedding(s).to_template());
        }
        idx
    }

    #[test]
    fn empty_index_finds_nothing() {
        let idx: TemplateIndex<u32> = TemplateIndex::new();
        let probe = test_embedding(1).to_template();
        assert!(idx.is_empty());
        assert!(idx.search(&probe, 5).is_empty());
        assert_eq!(idx.best_two(&probe), (None, None));
        assert_eq!(idx.find_duplicate(&probe, 0.0), None);
    }

    #[test]
    fn search_ranks_the_genuine_user_first() {
        let idx = index_of(&[1, 2, 3, 4, 5]);
        let probe = blend(&test_embedding(3), &test_embedding(99), 0.3).to_template();
        let top = idx.search(&probe, 3);
        assert_eq!(top.len(), 3);
        assert_eq!(idx.id(top[0].0).unwrap(), "user3");
        assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
        assert_eq!(idx.search(&probe, 100).len(), 5);
        assert!(idx.search(&probe, 0).is_empty());
        let (best, second) = idx.best_two(&probe);
        assert_eq!(best, Some(top[0]));
        assert_eq!(second, Some(top[1]));
    }

    #[test]
    fn ties_prefer_the_lower_slot() {
        let t = test_embedding(7).to_template();
        let mut idx = TemplateIndex::new();
        for id in 0u32..4 {
            idx.add(id, &t);
        }
        let top = idx.search(&t, 2);
        assert_eq!(top.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(top[0].1, top[1].1);
    }

    #[test]
    fn remove_swaps_last_into_slot() {
        let mut idx = index_of(&[1, 2, 3]);
        let (id, t) = idx.remove(0).unwrap();
        assert_eq!(id, "user1");
        assert_eq!(t, test_embedding(1).to_template());
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.ids(), ["user3".to_string(), "user2".to_string()]);
        assert_eq!(idx.template(0).unwrap(), test_embedding(3).to_template());
        let probe = test_embedding(3).to_template();
        assert_eq!(idx.search(&probe, 1)[0].0, 0);
        assert!(idx.remove(5).is_none());
        assert!(idx.remove_id(&"user2".to_string()).is_some());
        assert!(idx.remove_id(&"user2".to_string()).is_none());
        assert_eq!(idx.position(&"user3".to_string()), Some(0));
        idx.remove(0).unwrap();
        assert!(idx.is_empty());
        assert!(idx.template(0).is_none());
    }

    #[test]
    fn find_duplicate_respects_threshold() {
        let idx = index_of(&[10, 11]);
        let same = test_embedding(11).to_template();
        assert_eq!(idx.find_duplicate(&same, DUPLICATE_THRESHOLD).unwrap().0, 1);
        let stranger = test_embedding(500).to_template();
        assert_eq!(idx.find_duplicate(&stranger, DUPLICATE_THRESHOLD), None);
    }

    #[test]
    fn decide_match_outcomes() {
        let p = MatchPolicy::default();
        let (t, m) = (MATCH_THRESHOLD, PIN_MARGIN);
        assert_eq!(
            decide_match::<u32>(None, None, &p),
            MatchOutcome::Unrecognized
        );
        assert_eq!(
            decide_match(Some((1, t - 0.01)), None, &p),
            MatchOutcome::Unrecognized
        );
        assert_eq!(
            decide_match(Some((1, f32::NAN)), None, &p),
            MatchOutcome::Unrecognized
        );
        assert_eq!(
            decide_match(Some((1, t)), None, &p),
            MatchOutcome::AcceptedNeedsPin {
                id: 1,
                reason: PinReason::NearThreshold
            }
        );
        assert_eq!(
            decide_match(Some((1, t + m - 0.01)), Some((2, 0.2)), &p),
            MatchOutcome::AcceptedNeedsPin {
                id: 1,
                reason: PinReason::NearThreshold
            }
        );
        assert_eq!(
            decide_match(Some((1, 0.9)), Some((2, t - 0.01)), &p),
            MatchOutcome::Accepted { id: 1 }
        );
        assert_eq!(
            decide_match(Some((1, 0.9)), Some((2, t)), &p),
            MatchOutcome::AcceptedNeedsPin {
                id: 1,
                reason: PinReason::Collision
            }
        );
        let strict = MatchPolicy {
            threshold: 0.5,
            pin_margin: 0.0,
        };
        assert_eq!(
            decide_match(Some((1, 0.5)), None, &strict),
            MatchOutcome::Accepted { id: 1 }
        );
    }

    #[test]
    fn policy_serde_is_camel_case() {
        let json = serde_json::to_value(MatchPolicy::default()).unwrap();
        assert!(json.get("pinMargin").is_some());
        assert_eq!(
            serde_json::to_value(PinReason::NearThreshold).unwrap(),
            "nearThreshold"
        );
    }
}
