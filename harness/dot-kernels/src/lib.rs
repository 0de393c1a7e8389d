//! Candidate int8 dot-product kernels for the edge's 1:N scan, exported for a wasm timing run
//! (`scripts/bench-dot-kernels.sh` runs them in workerd through Miniflare). Kernel 0 is the
//! shipped `fio_core::matching::dot_i8`, kernel 4 its portable loop (what wasm ran before the
//! SIMD kernel); the others are alternatives they are measured against.
//! Every kernel is checked against the shipped one before it is timed.

use std::cell::RefCell;

use fio_core::matching::{dot_i8, dot_i8_portable};
use fio_core::EMBEDDING_DIM;

thread_local! {
    /// The gallery being scanned: `setup(n)` rows of [`EMBEDDING_DIM`] values in [-64, 63]
    /// (the relaxed kernel's second operand must fit 7 bits, see `relaxed`).
    static GALLERY: RefCell<Vec<i8>> = const { RefCell::new(Vec::new()) };
}

/// The probe: a fixed, full-range template.
fn probe() -> Vec<i8> {
    (0..EMBEDDING_DIM)
        .map(|i| ((i * 37) % 255) as u8 as i8)
        .collect()
}

/// Builds a deterministic gallery of `n` rows.
#[no_mangle]
pub extern "C" fn setup(n: usize) {
    let mut s: u32 = 12_345;
    let rows = (0..n * EMBEDDING_DIM)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((s >> 24) as u8 as i8) / 2
        })
        .collect();
    GALLERY.with(|g| *g.borrow_mut() = rows);
}

/// Scans the gallery `reps` times with kernel `kind`; returns the best score (a checksum).
/// Unknown or unavailable kernels return `i32::MIN`.
#[no_mangle]
pub extern "C" fn scan(kind: u32, reps: u32) -> i32 {
    let p = probe();
    // The relaxed kernel's correction depends on the probe only: once per scan, as a real scan
    // would do it.
    let sum_p: i32 = p.iter().map(|&v| i32::from(v)).sum();
    GALLERY.with(|g| {
        let g = g.borrow();
        let mut best = i32::MIN;
        for _ in 0..reps {
            for row in g.chunks_exact(EMBEDDING_DIM) {
                let Some(d) = kernel(kind, &p, row, sum_p) else {
                    return i32::MIN;
                };
                best = best.max(d);
            }
        }
        best
    })
}

/// The shipped scan itself: `TemplateIndex::search(probe, 2)` over the gallery, `reps` times;
/// returns the best score's integer dot product (the same checksum as [`scan`]).
#[no_mangle]
pub extern "C" fn scan_index(reps: u32) -> i32 {
    use fio_core::{Template, TemplateIndex};
    let p = Template::from_values(probe()).expect("non-zero probe");
    let index = GALLERY.with(|g| {
        let mut index = TemplateIndex::new();
        for (i, row) in g.borrow().chunks_exact(EMBEDDING_DIM).enumerate() {
            if let Ok(t) = Template::from_values(row.to_vec()) {
                index.add(i, &t);
            }
        }
        index
    });
    let mut best = 0;
    for _ in 0..reps {
        if let Some(&(slot, _)) = index.search(&p, 2).first() {
            best = slot;
        }
    }
    index
        .template(best)
        .map_or(i32::MIN, |t| dot_i8(p.values(), t.values()))
}

/// One dot product with kernel `kind` (`sum_a`: Σa, which the relaxed kernel needs).
pub fn kernel(kind: u32, a: &[i8], b: &[i8], sum_a: i32) -> Option<i32> {
    let _ = sum_a;
    match kind {
        0 => Some(dot_i8(a, b)),
        4 => Some(dot_i8_portable(a, b)),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        1 => Some(wasm::dot_i16x8(a, b)),
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        3 => Some(wasm::relaxed_shifted(a, b, sum_a)),
        _ => None,
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    fn sum(acc: v128) -> i32 {
        i32x4_extract_lane::<0>(acc)
            + i32x4_extract_lane::<1>(acc)
            + i32x4_extract_lane::<2>(acc)
            + i32x4_extract_lane::<3>(acc)
    }

    fn load(c: &[i8]) -> v128 {
        assert!(c.len() >= 16);
        // SAFETY: 16 readable bytes (checked above); v128.load has no alignment requirement.
        unsafe { v128_load(c.as_ptr() as *const v128) }
    }

    /// The shipped kernel's arithmetic (sign-extend to i16, `i32x4.dot_i16x8_s`) with
    /// `v128.load` instead of lane-built vectors.
    pub fn dot_i16x8(a: &[i8], b: &[i8]) -> i32 {
        let mut acc = i32x4_splat(0);
        for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
            let (va, vb) = (load(x), load(y));
            acc = i32x4_add(
                acc,
                i32x4_dot_i16x8(i16x8_extend_low_i8x16(va), i16x8_extend_low_i8x16(vb)),
            );
            acc = i32x4_add(
                acc,
                i32x4_dot_i16x8(i16x8_extend_high_i8x16(va), i16x8_extend_high_i8x16(vb)),
            );
        }
        sum(acc)
    }

    /// `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 multiply-adds per instruction), exact for any
    /// second operand in [-64, 63]: shifted to [0, 127] (the 7 bits the instruction requires),
    /// then corrected by 64 × Σa. Today's 8-bit templates would need two passes (high and low
    /// parts) or 7-bit rows (a precision loss to measure first); this measures the ceiling.
    #[cfg(target_feature = "relaxed-simd")]
    pub fn relaxed_shifted(a: &[i8], b: &[i8], sum_a: i32) -> i32 {
        let mut acc = i32x4_splat(0);
        let shift = i8x16_splat(64);
        for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
            let vb = i8x16_add(load(y), shift);
            acc = i32x4_relaxed_dot_i8x16_i7x16_add(load(x), vb, acc);
        }
        sum(acc) - 64 * sum_a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_kernel_agrees_with_the_shipped_one() {
        setup(64);
        let reference = scan(0, 1);
        assert_ne!(reference, i32::MIN);
        for kind in 1..5 {
            let got = scan(kind, 1);
            assert!(
                got == i32::MIN || got == reference,
                "kernel {kind}: {got} != {reference}"
            );
        }
    }
}
