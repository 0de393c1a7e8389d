//! 1:N matcher throughput against a memcpy of the same bytes, on one core:
//! `cargo bench -p fio-core --bench matcher [-- N]` prints a table.

use std::hint::black_box;
use std::time::Instant;

use fio_core::matching::{cosine_f32, TemplateIndex};
use fio_core::{Embedding, Template, EMBEDDING_DIM};

/// Deterministic pseudo-random unit vectors (xorshift), so runs are comparable.
fn random_embedding(state: &mut u64) -> Embedding {
    let v = (0..EMBEDDING_DIM)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            (*state >> 11) as f32 / (1u64 << 53) as f32 - 0.5
        })
        .collect();
    Embedding::new(v).expect("random vectors are non-zero")
}

fn per_second(items: usize, secs: f64) -> f64 {
    items as f64 / secs
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let embeddings: Vec<Embedding> = (0..n).map(|_| random_embedding(&mut state)).collect();
    let mut index = TemplateIndex::new();
    for (i, e) in embeddings.iter().enumerate() {
        index.add(i as u32, &Template::from_embedding(e));
    }
    let probe = Template::from_embedding(&random_embedding(&mut state));
    let rounds = (20_000_000 / n).max(3);

    // Warm up, then time each kernel over the same number of rounds.
    black_box(index.best_two(&probe));
    let t = Instant::now();
    for _ in 0..rounds {
        black_box(index.best_two(black_box(&probe)));
    }
    let int8 = t.elapsed().as_secs_f64();

    let flat: Vec<f32> = embeddings
        .iter()
        .flat_map(|e| e.as_slice().to_vec())
        .collect();
    let probe_f32 = probe.to_embedding();
    let t = Instant::now();
    for _ in 0..rounds {
        let mut best = f32::MIN;
        for row in flat.chunks_exact(EMBEDDING_DIM) {
            best = best.max(cosine_f32(probe_f32.as_slice(), row));
        }
        black_box(best);
    }
    let f32_scan = t.elapsed().as_secs_f64();

    let bytes = vec![1i8; n * EMBEDDING_DIM];
    let mut dst = vec![0i8; n * EMBEDDING_DIM];
    let t = Instant::now();
    for _ in 0..rounds {
        dst.copy_from_slice(black_box(&bytes));
        black_box(&dst);
    }
    let memcpy = t.elapsed().as_secs_f64();

    let total = n * rounds;
    println!("1:N scan of {n} templates x {rounds} rounds, one core");
    println!(
        "{:<34} {:>16} {:>14} {:>12}",
        "kernel", "templates/s", "GB/s", "vs memcpy"
    );
    for (name, secs, bytes_per) in [
        ("int8 index best_two (shipped)", int8, EMBEDDING_DIM),
        ("f32 cosine scan", f32_scan, EMBEDDING_DIM * 4),
        ("memcpy of the int8 bytes", memcpy, EMBEDDING_DIM),
    ] {
        let tps = per_second(total, secs);
        println!(
            "{name:<34} {tps:>16.3e} {:>14.2} {:>11.2}x",
            tps * bytes_per as f64 / 1e9,
            memcpy / secs
        );
    }
    println!(
        "one 1:N authentication against {n} faces: {:.2} ms (int8)",
        int8 / rounds as f64 * 1e3
    );
}
