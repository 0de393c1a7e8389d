//! An app's gallery of templates, or one shard of it: the in-memory int8 index, the per-face
//! metadata, and the storage pages (`shard:{n:06}`, up to [`PAGE_CAPACITY`] rows) it is loaded
//! from. The same code runs in the app's own Durable Object (one shard, the default) and in
//! each gallery shard object `{publicId}#{k}` of a sharded app (see `fan_out.rs`).

use std::collections::{BTreeMap, HashMap};

use fio_core::{Template, TemplateIndex};
use serde::{Deserialize, Serialize};

use crate::error::{EdgeError, EdgeResult};
use crate::kv_records::StoredDetails;

use super::decide::Write;

/// Rows per storage page (~360 bytes each, well under the 128 KiB value limit).
pub const PAGE_CAPACITY: usize = 256;

/// One row of a storage page, also what the coordinator sends a shard to add.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GalleryRow {
    /// Facial ID.
    pub f: String,
    /// Sealed template.
    pub t: String,
    /// Created at (unix ms).
    pub c: u64,
    /// Details.
    pub d: StoredDetails,
}

/// A facial ID with its similarity to a probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Facial ID.
    pub f: String,
    /// Cosine similarity.
    pub s: f32,
}

/// One face as listed by `/listfacialids`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    /// Facial ID.
    pub f: String,
    /// Created at (unix ms).
    pub c: u64,
    /// Details.
    pub d: StoredDetails,
}

/// What memory keeps per face besides its template row.
#[derive(Debug, Clone)]
struct FaceMeta {
    page: u32,
    created_at_ms: u64,
    details: StoredDetails,
}

/// A loaded gallery (or shard of one).
#[derive(Default)]
pub struct Gallery {
    index: TemplateIndex<String>,
    faces: HashMap<String, FaceMeta>,
    page_sizes: BTreeMap<u32, usize>,
}

impl Gallery {
    /// Number of faces.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Heap bytes held (vectors and maps by capacity, the facial-ID strings they own): an
    /// accounting, not a measurement of the allocator.
    pub fn heap_bytes(&self) -> usize {
        let id_heap: usize = self.index.ids().iter().map(String::capacity).sum();
        let map_entry = std::mem::size_of::<String>() + std::mem::size_of::<FaceMeta>() + 1;
        self.index.heap_bytes()
            + 2 * id_heap
            + self.faces.capacity() * map_entry
            + self.page_sizes.len() * 3 * std::mem::size_of::<usize>()
    }

    /// True when `fid` is here.
    pub fn contains(&self, fid: &str) -> bool {
        self.faces.contains_key(fid)
    }

    /// Adds the rows of one loaded page; rows whose template does not open are skipped (logged
    /// by the caller through the returned IDs).
    pub fn load_page(
        &mut self,
        page: u32,
        rows: Vec<GalleryRow>,
        open: impl Fn(&GalleryRow) -> EdgeResult<Template>,
    ) -> Vec<(String, EdgeError)> {
        let mut skipped = Vec::new();
        self.page_sizes.insert(page, rows.len());
        for row in rows {
            match open(&row) {
                Ok(t) => {
                    self.index.add(row.f.clone(), &t);
                    self.faces.insert(
                        row.f,
                        FaceMeta {
                            page,
                            created_at_ms: row.c,
                            details: row.d,
                        },
                    );
                }
                Err(e) => skipped.push((row.f, e)),
            }
        }
        skipped
    }

    /// The local best two for a probe, best first.
    pub fn best_two(&self, probe: &Template) -> Vec<Scored> {
        self.index
            .search(probe, 2)
            .into_iter()
            .filter_map(|(slot, s)| self.index.id(slot).map(|f| Scored { f: f.clone(), s }))
            .collect()
    }

    /// A face at or above `threshold`, if any (the enrollment duplicate check).
    pub fn find_duplicate(&self, template: &Template, threshold: f32) -> Option<String> {
        self.index
            .find_duplicate(template, threshold)
            .and_then(|(slot, _)| self.index.id(slot).cloned())
    }

    /// The page a new row goes to: the first with room, or a new one.
    pub fn page_for_new_row(&self) -> u32 {
        self.page_sizes
            .iter()
            .find(|(_, &n)| n < PAGE_CAPACITY)
            .map(|(&k, _)| k)
            .unwrap_or_else(|| self.page_sizes.keys().next_back().map_or(0, |k| k + 1))
    }

    /// The page holding `fid`.
    pub fn page_of(&self, fid: &str) -> Option<u32> {
        self.faces.get(fid).map(|m| m.page)
    }

    /// Mirrors a committed addition.
    pub fn added(&mut self, row: &GalleryRow, template: &Template, page: u32, page_len: usize) {
        self.index.add(row.f.clone(), template);
        self.faces.insert(
            row.f.clone(),
            FaceMeta {
                page,
                created_at_ms: row.c,
                details: row.d,
            },
        );
        self.page_sizes.insert(page, page_len);
    }

    /// Mirrors a committed removal.
    pub fn removed(&mut self, fid: &str, page: u32, page_len: usize) {
        self.index.remove_id(&fid.to_owned());
        self.faces.remove(fid);
        if page_len == 0 {
            self.page_sizes.remove(&page);
        } else {
            self.page_sizes.insert(page, page_len);
        }
    }

    /// The first `upto` faces in listing order (oldest enrollment first, ties by facial ID).
    /// Only those `upto` are sorted and copied: `/appstats` asks for none, a listing page for
    /// `offset + limit` of a gallery that may hold 120,000.
    pub fn list(&self, upto: usize) -> Vec<Listed> {
        let mut all: Vec<(&String, &FaceMeta)> = if upto == 0 {
            Vec::new()
        } else {
            self.faces.iter().collect()
        };
        if upto < all.len() {
            all.select_nth_unstable_by(upto, listing_order);
            all.truncate(upto);
        }
        all.sort_unstable_by(listing_order);
        all.into_iter()
            .map(|(f, m)| Listed {
                f: f.clone(),
                c: m.created_at_ms,
                d: m.details,
            })
            .collect()
    }
}

/// Oldest enrollment first, ties by facial ID.
fn listing_order(a: &(&String, &FaceMeta), b: &(&String, &FaceMeta)) -> std::cmp::Ordering {
    (a.1.created_at_ms, a.0).cmp(&(b.1.created_at_ms, b.0))
}

/// Storage prefix of the pages.
pub const PAGE_PREFIX: &str = "shard:";

/// Storage key of a page.
pub fn page_key(page: u32) -> String {
    format!("{PAGE_PREFIX}{page:06}")
}

/// The page number a storage key names, if it is a page's.
pub fn page_number(key: &str) -> Option<u32> {
    key.strip_prefix(PAGE_PREFIX)?.parse().ok()
}

/// The page write that adds `row`; returns it and the page's new size.
pub fn add_to_page(
    page: u32,
    mut rows: Vec<GalleryRow>,
    row: GalleryRow,
) -> EdgeResult<(Write, usize)> {
    rows.push(row);
    Ok((Write::put(page_key(page), &rows)?, rows.len()))
}

/// The page write that removes `fid`; returns it and the page's new size (0: page deleted).
pub fn remove_from_page(
    page: u32,
    mut rows: Vec<GalleryRow>,
    fid: &str,
) -> EdgeResult<(Write, usize)> {
    rows.retain(|r| r.f != fid);
    let write = if rows.is_empty() {
        Write::Delete(page_key(page))
    } else {
        Write::put(page_key(page), &rows)?
    };
    Ok((write, rows.len()))
}

/// The global best two from every shard's local best two (ties: lower facial ID first, so the
/// result does not depend on which shard answered first).
pub fn merge_best_two(per_shard: Vec<Vec<Scored>>) -> Vec<Scored> {
    let mut all: Vec<Scored> = per_shard.into_iter().flatten().collect();
    all.sort_by(|a, b| b.s.total_cmp(&a.s).then_with(|| a.f.cmp(&b.f)));
    all.truncate(2);
    all
}

/// The first `upto` faces of the whole app from each shard's first `upto`.
pub fn merge_lists(per_shard: Vec<Vec<Listed>>, upto: usize) -> Vec<Listed> {
    let mut all: Vec<Listed> = per_shard.into_iter().flatten().collect();
    all.sort_by(|a, b| (a.c, &a.f).cmp(&(b.c, &b.f)));
    all.truncate(upto);
    all
}

/// The shard (`0..shards`) that holds a facial ID: FNV-1a of its text, so every component
/// agrees without a lookup table.
pub fn shard_of(fid: &str, shards: u32) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in fid.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % shards.max(1)
}

/// Durable Object name of shard `k` of an app (`#` never occurs in a public ID, so no client
/// request can address it).
pub fn shard_object_name(public_id: &str, k: u32) -> String {
    format!("{public_id}#{k}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fio_core::protocol::Gender;

    fn scored(f: &str, s: f32) -> Scored {
        Scored { f: f.into(), s }
    }

    fn details() -> StoredDetails {
        StoredDetails {
            gender: Gender::Male,
            age: 30,
        }
    }

    fn template(seed: u8) -> Template {
        let values = (0..fio_core::EMBEDDING_DIM)
            .map(|i| ((i as u8).wrapping_mul(seed).wrapping_add(seed) as i8) | 1)
            .collect();
        Template::from_values(values).unwrap()
    }

    #[test]
    fn the_global_best_two_come_from_any_shards() {
        let merged = merge_best_two(vec![
            vec![scored("a", 0.61), scored("b", 0.2)],
            vec![],
            vec![scored("c", 0.7), scored("d", 0.6)],
        ]);
        assert_eq!(merged, vec![scored("c", 0.7), scored("a", 0.61)]);
        assert!(merge_best_two(vec![vec![], vec![]]).is_empty());
    }

    #[test]
    fn equal_scores_merge_the_same_whatever_the_shard_order() {
        let one = merge_best_two(vec![vec![scored("b", 0.6)], vec![scored("a", 0.6)]]);
        let two = merge_best_two(vec![vec![scored("a", 0.6)], vec![scored("b", 0.6)]]);
        assert_eq!(one, two);
        assert_eq!(one[0].f, "a");
    }

    #[test]
    fn lists_merge_in_enrollment_order() {
        let row = |f: &str, c| Listed {
            f: f.into(),
            c,
            d: details(),
        };
        let merged = merge_lists(
            vec![
                vec![row("x", 1), row("z", 5)],
                vec![row("y", 3), row("w", 5)],
            ],
            3,
        );
        let ids: Vec<&str> = merged.iter().map(|l| l.f.as_str()).collect();
        assert_eq!(ids, ["x", "y", "w"]);
    }

    #[test]
    fn facial_ids_spread_over_every_shard_and_stay_put() {
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let fid = format!("{i:08x}-0000-4000-8000-000000000000");
            let k = shard_of(&fid, 4);
            assert_eq!(k, shard_of(&fid, 4));
            counts[k as usize] += 1;
        }
        // Each shard gets its share within ±15 %.
        assert!(
            counts.iter().all(|&n| (850..=1150).contains(&n)),
            "{counts:?}"
        );
        assert_eq!(shard_of("anything", 1), 0);
        assert_eq!(shard_of("anything", 0), 0);
    }

    #[test]
    fn a_gallery_mirrors_additions_and_removals() {
        let mut g = Gallery::default();
        let row = |f: &str| GalleryRow {
            f: f.into(),
            t: String::new(),
            c: 7,
            d: details(),
        };
        let (a, b) = (template(3), template(5));
        g.added(&row("a"), &a, 0, 1);
        g.added(&row("b"), &b, 0, 2);
        assert_eq!(g.len(), 2);
        assert_eq!(g.best_two(&a)[0].f, "a");
        assert_eq!(g.find_duplicate(&b, 0.99).as_deref(), Some("b"));
        assert_eq!(g.page_of("b"), Some(0));
        g.removed("a", 0, 1);
        assert!(!g.contains("a"));
        assert_eq!(g.best_two(&a).len(), 1);
        assert_eq!(g.list(10)[0].f, "b");
    }

    #[test]
    fn a_listing_takes_the_oldest_faces_in_order() {
        let mut g = Gallery::default();
        let t = template(3);
        for (f, c) in [("e", 5), ("a", 9), ("c", 1), ("d", 5), ("b", 2)] {
            let row = GalleryRow {
                f: f.into(),
                t: String::new(),
                c,
                d: details(),
            };
            g.added(&row, &t, 0, 1);
        }
        let ids = |n| g.list(n).into_iter().map(|l| l.f).collect::<Vec<_>>();
        assert_eq!(ids(3), ["c", "b", "d"]);
        assert_eq!(ids(10), ["c", "b", "d", "e", "a"]);
        assert!(ids(0).is_empty());
    }

    #[test]
    fn pages_fill_before_a_new_one_opens() {
        let mut g = Gallery::default();
        g.page_sizes.insert(0, PAGE_CAPACITY);
        g.page_sizes.insert(1, 3);
        assert_eq!(g.page_for_new_row(), 1);
        g.page_sizes.insert(1, PAGE_CAPACITY);
        assert_eq!(g.page_for_new_row(), 2);
        let (w, n) = remove_from_page(
            2,
            vec![GalleryRow {
                f: "a".into(),
                t: String::new(),
                c: 0,
                d: details(),
            }],
            "a",
        )
        .unwrap();
        assert_eq!(n, 0);
        assert!(matches!(w, Write::Delete(k) if k == "shard:000002"));
        assert_eq!(page_number(&page_key(7)), Some(7));
        assert_eq!(page_number("user:shard:1"), None);
    }
}
