//! Where an app's gallery lives and how its object reaches it: in the object itself (one shard,
//! the default), or spread over `galleryShards` gallery shard objects `{publicId}#{k}` that this
//! object calls in parallel. Every gallery operation of the widget and REST APIs goes through
//! here; the shard objects answer [`GalleryCall`]s with the same [`Gallery`] code.
//!
//! Consistency with shards (edge README "Scale-out"):
//! - The user record (`user:{fid}`, PIN tag, attempts) stays in the app's object and is written
//!   *before* the face is added to its shard, and deleted *after* the face left it: a face in a
//!   shard always has a record, except after a failed addition whose clean-up also failed
//!   (an orphan: never matched, and removed by the next duplicate check that finds it).
//! - An enrollment holds a [`Reservation`] (its template and PIN tag, in memory) from before
//!   its duplicate check until its face is in its shard. Fan-out calls open the object's input
//!   gate, so other requests run meanwhile; each enrollment checks the reservations present
//!   when it reserves, so of two concurrent enrollments of one face the later one always sees
//!   the earlier one, either as a reservation or, once added, in the shard.
//! - A shard that fails or does not answer within [`SHARD_TIMEOUT_MS`] fails the request (503,
//!   `PROCESSING_ERR`): a login is never decided on part of the gallery.

use futures_util::future::{self, Either};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::Duration;

use super::decide::Write;
use super::gallery::{self, merge_best_two, merge_lists, shard_object_name, Gallery, GalleryRow};
use super::gallery::{Listed, Scored};
use super::*;
use crate::do_protocol::{
    call_object, DuplicateArgs, FaultMode, FidArg, GalleryCall, GalleryControl, ProbeArgs, UptoArgs,
};

/// How long a shard may take to answer before the request fails.
pub const SHARD_TIMEOUT_MS: u64 = 5_000;
/// How long a shard may take over a bench/test control (seeding writes many pages).
const CONTROL_TIMEOUT_MS: u64 = 120_000;
/// How long a shard with the `hang` test fault stalls.
const HANG_MS: u64 = 30_000;

/// A shard's listing: its first faces and its total.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardList {
    /// Faces held.
    pub total: usize,
    /// The first `upto` in listing order.
    pub first: Vec<Listed>,
}

/// A shard's answer to an addition.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AddReply {
    /// The shard holds [`crate::app_config::MAX_FACES_PER_SHARD`] faces: nothing was added.
    #[serde(default)]
    pub full: bool,
}

/// An enrollment in flight: held from its duplicate check until its face is stored.
pub struct Reservation<'a> {
    inner: &'a RefCell<Inner>,
    id: u64,
    /// A reservation made earlier holds a template at or above the threshold.
    pub duplicate_pending: bool,
    /// A reservation made earlier holds the same PIN tag.
    pub pin_pending: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            inner.reservations.retain(|r| r.id != self.id);
        }
    }
}

/// What [`Inner::reservations`] keeps of an enrollment in flight.
pub struct Reserved {
    id: u64,
    template: Template,
    pin_tag: String,
}

impl AppIndex {
    /// The app's number of gallery shards (1: this object holds the gallery).
    pub(super) fn gallery_shards(&self) -> EdgeResult<u32> {
        self.with_app(|d| Ok(d.config.gallery_shards.max(1)))
    }

    /// Reserves an enrollment's template and PIN tag, noting what earlier ones conflict with.
    pub(super) fn reserve(
        &self,
        template: &Template,
        pin_tag: &str,
        threshold: f32,
    ) -> Reservation<'_> {
        let mut inner = self.inner.borrow_mut();
        inner.next_reservation += 1;
        let id = inner.next_reservation;
        let duplicate_pending = inner
            .reservations
            .iter()
            .any(|r| r.template.similarity(template) >= threshold);
        let pin_pending = inner.reservations.iter().any(|r| r.pin_tag == pin_tag);
        inner.reservations.push(Reserved {
            id,
            template: template.clone(),
            pin_tag: pin_tag.to_owned(),
        });
        Reservation {
            inner: &self.inner,
            id,
            duplicate_pending,
            pin_pending,
        }
    }

    // ---- the app's view ----------------------------------------------------------------------

    /// The gallery's best two for a probe, best first.
    pub(super) async fn gallery_best_two(&self, probe: &Template) -> EdgeResult<Vec<Scored>> {
        let n = self.gallery_shards()?;
        if n == 1 {
            return self.with_local_gallery(|g| g.best_two(probe)).await;
        }
        let probe = probe.to_base64();
        let found: Vec<Vec<Scored>> = self
            .fan_out(n, |_| {
                GalleryCall::Search(ProbeArgs {
                    probe: probe.clone(),
                })
            })
            .await?;
        Ok(merge_best_two(found))
    }

    /// An enrolled face at or above `threshold`, if any. With shards, a face without a user
    /// record (an orphan of a failed enrollment) is removed instead of reported.
    pub(super) async fn gallery_duplicate(
        &self,
        template: &Template,
        threshold: f32,
    ) -> EdgeResult<bool> {
        let n = self.gallery_shards()?;
        if n == 1 {
            let dup = self
                .with_local_gallery(|g| g.find_duplicate(template, threshold))
                .await?;
            return Ok(dup.is_some());
        }
        let template = template.to_base64();
        let found: Vec<Option<String>> = self
            .fan_out(n, |_| {
                GalleryCall::FindDuplicate(DuplicateArgs {
                    template: template.clone(),
                    threshold,
                })
            })
            .await?;
        for fid in found.into_iter().flatten() {
            if self.record_exists(&fid).await? {
                return Ok(true);
            }
            worker::console_error!("removing orphan gallery row {fid}");
            self.shard_remove(n, &fid).await?;
        }
        Ok(false)
    }

    /// Stores a new face: with the app's own gallery, `record_writes` and the row in one
    /// commit; with shards, the record first, then the row in its shard (the record is undone
    /// if that fails).
    pub(super) async fn gallery_add(
        &self,
        row: GalleryRow,
        template: &Template,
        record_writes: Vec<Write>,
    ) -> EdgeResult<()> {
        let n = self.gallery_shards()?;
        if n == 1 {
            return self.local_add(row, template, record_writes).await;
        }
        let undo: Vec<Write> = record_writes
            .iter()
            .filter_map(|w| match w {
                Write::Put(k, _) => Some(Write::Delete(k.clone())),
                Write::Delete(_) => None,
            })
            .collect();
        self.commit_counted(record_writes, Some(|s| s.enrollments += 1))
            .await?;
        let fid = row.f.clone();
        let added = self
            .shard_call::<AddReply>(gallery::shard_of(&fid, n), GalleryCall::Add(row))
            .await
            .and_then(|r| {
                if r.full {
                    Err(EdgeError::GalleryFull)
                } else {
                    Ok(())
                }
            });
        if let Err(e) = added {
            // The row may still have landed (a timeout): take it out again, best effort.
            if let Err(e) = self
                .commit_counted(
                    undo,
                    Some(|s| s.enrollments = s.enrollments.saturating_sub(1)),
                )
                .await
            {
                worker::console_error!("undoing the record of {fid}: {e:?}");
            }
            if let Err(e) = self.shard_remove(n, &fid).await {
                worker::console_error!("removing the row of {fid} after a failed add: {e:?}");
            }
            return Err(e);
        }
        Ok(())
    }

    /// Removes a face: with the app's own gallery, `record_writes` and the row in one commit;
    /// with shards, the row first (so no login can match it once this answers), then the record.
    pub(super) async fn gallery_remove(
        &self,
        fid: &str,
        record_writes: Vec<Write>,
    ) -> EdgeResult<()> {
        let n = self.gallery_shards()?;
        if n == 1 {
            return self.local_remove(fid, record_writes).await;
        }
        self.shard_remove(n, fid).await?;
        self.commit_counted(record_writes, Some(|s| s.deletions += 1))
            .await
    }

    /// The app's first `upto` faces in listing order, and its total.
    pub(super) async fn gallery_list(&self, upto: usize) -> EdgeResult<(usize, Vec<Listed>)> {
        let n = self.gallery_shards()?;
        if n == 1 {
            return self.with_local_gallery(|g| (g.len(), g.list(upto))).await;
        }
        let lists: Vec<ShardList> = self
            .fan_out(n, |_| GalleryCall::List(UptoArgs { upto }))
            .await?;
        let total = lists.iter().map(|l| l.total).sum();
        Ok((
            total,
            merge_lists(lists.into_iter().map(|l| l.first).collect(), upto),
        ))
    }

    /// Faces enrolled.
    pub(super) async fn gallery_len(&self) -> EdgeResult<usize> {
        Ok(self.gallery_list(0).await?.0)
    }

    /// Empties every shard (the app is being deleted; its own storage goes separately).
    pub(super) async fn gallery_delete_all(&self) -> EdgeResult<()> {
        let n = self.gallery_shards()?;
        if n > 1 {
            let _: Vec<Value> = self.fan_out(n, |_| GalleryCall::DeleteAll).await?;
        }
        Ok(())
    }

    /// A bench/test control, refused unless the deployment enables them.
    pub(super) async fn gallery_control(&self, control: GalleryControl) -> Handled {
        if !test_controls_enabled(&self.env) {
            return Err(EdgeError::NotFound("route"));
        }
        let n = self.gallery_shards()?;
        if n == 1 {
            let v = self.local_control(&control).await?;
            return Ok((json!({ "shards": [v] }), None));
        }
        let answers: Vec<Value> = match &control {
            GalleryControl::Restart { shard } | GalleryControl::Fault { shard, .. } => {
                if *shard >= n {
                    return Err(EdgeError::bad_request("no such shard"));
                }
                vec![
                    self.shard_call(*shard, GalleryCall::Control(control))
                        .await?,
                ]
            }
            GalleryControl::Seed { count, seed } => {
                let (count, seed) = (*count, *seed);
                self.fan_out(n, |k| {
                    // Shard k seeds its share; the remainder goes to the first shards.
                    let share = count / n + u32::from(k < count % n);
                    GalleryCall::Control(GalleryControl::Seed {
                        count: share,
                        seed: seed.wrapping_add(u64::from(k)),
                    })
                })
                .await?
            }
            GalleryControl::Inspect => {
                self.fan_out(n, |_| GalleryCall::Control(GalleryControl::Inspect))
                    .await?
            }
        };
        Ok((json!({ "shards": answers }), None))
    }

    /// Commits `writes` with the app's stats changed by `bump` (read, changed and written with
    /// no other request in between: storage calls hold the input gate) and mirrors the stats.
    pub(super) async fn commit_counted(
        &self,
        mut writes: Vec<Write>,
        bump: Option<fn(&mut Stats)>,
    ) -> EdgeResult<()> {
        let stats = match bump {
            Some(bump) => {
                let mut s = self.with_app(|d| Ok(d.stats.clone()))?;
                bump(&mut s);
                writes.push(Write::put("stats", &s)?);
                Some(s)
            }
            None => None,
        };
        self.apply(writes).await?;
        if let Some(s) = stats {
            self.with_app_mut(|d| d.stats = s)?;
        }
        Ok(())
    }

    /// True when the app's object holds a user record for `fid`.
    pub(super) async fn record_exists(&self, fid: &str) -> EdgeResult<bool> {
        Ok(self
            .storage()
            .get::<String>(&format!("user:{fid}"))
            .await?
            .is_some())
    }

    /// Every enrolled facial ID, from the user records.
    pub(super) async fn all_facial_ids(&self) -> EdgeResult<Vec<String>> {
        let mut ids = Vec::new();
        let mut pages = self.pages("user:", 512);
        while let Some(page) = pages.next().await? {
            ids.extend(
                page.iter()
                    .filter_map(|(k, _)| k.strip_prefix("user:").map(str::to_owned)),
            );
        }
        Ok(ids)
    }

    async fn shard_remove(&self, n: u32, fid: &str) -> EdgeResult<()> {
        let _: Value = self
            .shard_call(
                gallery::shard_of(fid, n),
                GalleryCall::Remove(FidArg {
                    fid: fid.to_owned(),
                }),
            )
            .await?;
        Ok(())
    }

    /// One call to shard `k`, failing after [`SHARD_TIMEOUT_MS`] (controls: longer).
    async fn shard_call<T: DeserializeOwned>(&self, k: u32, call: GalleryCall) -> EdgeResult<T> {
        let public_id = self.public_id_of_app()?;
        let request = DoRequest {
            ctx: CallContext::internal(&public_id),
            call: DoCall::Gallery(call),
        };
        let name = shard_object_name(&public_id, k);
        let limit_ms = match request.call {
            DoCall::Gallery(GalleryCall::Control(_)) => CONTROL_TIMEOUT_MS,
            _ => SHARD_TIMEOUT_MS,
        };
        let sent = Box::pin(call_object(&self.env, &name, &request));
        let timeout = Box::pin(worker::Delay::from(Duration::from_millis(limit_ms)));
        let reply = match future::select(sent, timeout).await {
            Either::Left((reply, _)) => reply?,
            Either::Right(_) => {
                return Err(EdgeError::ShardUnavailable(format!(
                    "gallery shard {k} did not answer within {limit_ms} ms"
                )))
            }
        };
        match reply.err {
            // `ok: null` (a shard's "nothing found") arrives as `None`.
            None => T::deserialize(reply.ok.unwrap_or(Value::Null))
                .map_err(|e| EdgeError::Internal(format!("gallery shard {k} reply: {e}"))),
            Some(e) => Err(EdgeError::ShardUnavailable(format!(
                "gallery shard {k} failed: {}",
                e.body.message
            ))),
        }
    }

    /// The same kind of call to every shard in parallel; any failure fails the whole.
    async fn fan_out<T: DeserializeOwned>(
        &self,
        n: u32,
        call: impl Fn(u32) -> GalleryCall,
    ) -> EdgeResult<Vec<T>> {
        let calls = (0..n).map(|k| self.shard_call::<T>(k, call(k)));
        future::join_all(calls).await.into_iter().collect()
    }

    // ---- the gallery this object holds (an app's own, or a shard's) --------------------------

    /// Loads this object's gallery once per object lifetime.
    async fn ensure_gallery(&self, public_id: &str) -> EdgeResult<()> {
        if self.inner.borrow().gallery.is_some() {
            return Ok(());
        }
        let started = now_ms();
        let key = crypto::template_key(master_key(&self.env)?.as_bytes(), public_id);
        let mut g = Gallery::default();
        let mut pages = self.pages(gallery::PAGE_PREFIX, LOAD_PAGE);
        while let Some(page) = pages.next().await? {
            for (k, v) in &page {
                let Some(n) = gallery::page_number(k) else {
                    continue;
                };
                let rows: Vec<GalleryRow> = serde_json::from_str(v)?;
                let skipped = g.load_page(n, rows, |r| {
                    crypto::open(&key, &r.f, &r.t)
                        .and_then(|b| Template::from_bytes(&b).map_err(EdgeError::from))
                });
                for (fid, err) in skipped {
                    worker::console_error!("skipping template {fid}: {err:?}");
                }
            }
        }
        let mut inner = self.inner.borrow_mut();
        if inner.gallery.is_none() {
            inner.gallery = Some(g);
            inner.last_load_ms = Some(now_ms().saturating_sub(started));
        }
        Ok(())
    }

    fn public_id_of_app(&self) -> EdgeResult<String> {
        self.with_app(|d| Ok(d.config.public_id.clone()))
    }

    async fn with_local_gallery<T>(&self, f: impl FnOnce(&Gallery) -> T) -> EdgeResult<T> {
        self.ensure_gallery(&self.public_id_of_app()?).await?;
        let inner = self.inner.borrow();
        let g = inner
            .gallery
            .as_ref()
            .ok_or_else(|| EdgeError::Internal("gallery not loaded".into()))?;
        Ok(f(g))
    }

    fn gallery_mut<T>(&self, f: impl FnOnce(&mut Gallery) -> T) -> EdgeResult<T> {
        let mut inner = self.inner.borrow_mut();
        let g = inner
            .gallery
            .as_mut()
            .ok_or_else(|| EdgeError::Internal("gallery not loaded".into()))?;
        Ok(f(g))
    }

    /// Adds a row to this object's gallery, with `extra` writes in the same commit; a row
    /// already there is left as it is. A gallery at [`crate::app_config::MAX_FACES_PER_SHARD`]
    /// refuses with `GalleryFull`.
    async fn local_add_row(
        &self,
        row: GalleryRow,
        template: &Template,
        extra: Vec<Write>,
    ) -> EdgeResult<()> {
        if self.gallery_mut(|g| g.len())? >= crate::app_config::MAX_FACES_PER_SHARD {
            return Err(EdgeError::GalleryFull);
        }
        if self.gallery_mut(|g| g.contains(&row.f))? {
            return Ok(());
        }
        let page = self.gallery_mut(|g| g.page_for_new_row())?;
        let rows: Vec<GalleryRow> = self
            .get_json(&gallery::page_key(page))
            .await?
            .unwrap_or_default();
        let (write, len) = gallery::add_to_page(page, rows, row.clone())?;
        let mut writes = extra;
        writes.push(write);
        let counted = self.inner.borrow().data.is_some();
        self.commit_counted(
            writes,
            counted.then_some(|s: &mut Stats| s.enrollments += 1),
        )
        .await?;
        self.gallery_mut(|g| g.added(&row, template, page, len))
    }

    async fn local_add(
        &self,
        row: GalleryRow,
        template: &Template,
        extra: Vec<Write>,
    ) -> EdgeResult<()> {
        self.ensure_gallery(&self.public_id_of_app()?).await?;
        self.local_add_row(row, template, extra).await
    }

    /// Removes a row from this object's gallery (absent: only `extra` is written).
    async fn local_remove_row(&self, fid: &str, extra: Vec<Write>) -> EdgeResult<()> {
        let Some(page) = self.gallery_mut(|g| g.page_of(fid))? else {
            return self.apply(extra).await;
        };
        let rows: Vec<GalleryRow> = self
            .get_json(&gallery::page_key(page))
            .await?
            .unwrap_or_default();
        let (write, len) = gallery::remove_from_page(page, rows, fid)?;
        let mut writes = extra;
        writes.push(write);
        let counted = self.inner.borrow().data.is_some();
        self.commit_counted(writes, counted.then_some(|s: &mut Stats| s.deletions += 1))
            .await?;
        self.gallery_mut(|g| g.removed(fid, page, len))
    }

    async fn local_remove(&self, fid: &str, extra: Vec<Write>) -> EdgeResult<()> {
        self.ensure_gallery(&self.public_id_of_app()?).await?;
        self.local_remove_row(fid, extra).await
    }

    /// A control applied to this object's gallery.
    async fn local_control(&self, control: &GalleryControl) -> EdgeResult<Value> {
        let public_id = self
            .inner
            .borrow()
            .shard_of
            .clone()
            .map_or_else(|| self.public_id_of_app(), Ok)?;
        match control {
            GalleryControl::Seed { count, seed } => {
                self.ensure_gallery(&public_id).await?;
                self.seed(&public_id, *count, *seed).await?;
            }
            GalleryControl::Restart { .. } => {
                self.inner.borrow_mut().gallery = None;
                self.ensure_gallery(&public_id).await?;
            }
            GalleryControl::Fault { mode, .. } => self.inner.borrow_mut().fault = *mode,
            GalleryControl::Inspect => self.ensure_gallery(&public_id).await?,
        }
        let inner = self.inner.borrow();
        Ok(json!({
            "faces": inner.gallery.as_ref().map_or(0, Gallery::len),
            "heapBytes": inner.gallery.as_ref().map_or(0, Gallery::heap_bytes),
            "loadMs": inner.last_load_ms,
            "fault": inner.fault,
        }))
    }

    /// Adds `count` synthetic faces: random unit templates, sealed and paged like real ones.
    async fn seed(&self, public_id: &str, count: u32, seed: u64) -> EdgeResult<()> {
        let key = crypto::template_key(master_key(&self.env)?.as_bytes(), public_id);
        let now = now_ms();
        let mut rng = SplitMix(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut left = count as usize;
        while left > 0 {
            let page = self.gallery_mut(|g| g.page_for_new_row())?;
            let mut rows: Vec<GalleryRow> = self
                .get_json(&gallery::page_key(page))
                .await?
                .unwrap_or_default();
            let mut added = Vec::new();
            while rows.len() < gallery::PAGE_CAPACITY && left > 0 {
                let template = rng.template();
                let mut id = [0u8; 16];
                for b in &mut id {
                    *b = rng.next() as u8;
                }
                let fid = format_facial_id(&id);
                let row = GalleryRow {
                    t: crypto::seal(&key, &fid, &template.to_bytes())?,
                    f: fid,
                    c: now,
                    d: StoredDetails {
                        gender: fio_core::protocol::Gender::Female,
                        age: 30,
                    },
                };
                rows.push(row.clone());
                added.push((row, template));
                left -= 1;
            }
            let len = rows.len();
            self.put_json(&gallery::page_key(page), &rows).await?;
            self.gallery_mut(|g| {
                for (row, t) in &added {
                    g.added(row, t, page, len);
                }
            })?;
        }
        Ok(())
    }

    /// Answers a [`GalleryCall`] as a gallery shard object.
    pub(super) async fn serve_shard(&self, ctx: &CallContext, call: GalleryCall) -> Handled {
        let public_id = ctx.public_id.clone();
        self.inner.borrow_mut().shard_of = Some(public_id.clone());
        let fault = self.inner.borrow().fault;
        match fault {
            FaultMode::None => {}
            FaultMode::Error if !matches!(call, GalleryCall::Control(_)) => {
                return Err(EdgeError::Internal("test fault: shard failing".into()))
            }
            FaultMode::Hang if !matches!(call, GalleryCall::Control(_)) => {
                worker::Delay::from(Duration::from_millis(HANG_MS)).await;
            }
            _ => {}
        }
        if let GalleryCall::Control(c) = &call {
            return Ok((self.local_control(c).await?, None));
        }
        self.ensure_gallery(&public_id).await?;
        let value = match call {
            GalleryCall::Search(a) => {
                let probe = Template::from_base64(&a.probe)?;
                serde_json::to_value(self.gallery_mut(|g| g.best_two(&probe))?)?
            }
            GalleryCall::FindDuplicate(a) => {
                let t = Template::from_base64(&a.template)?;
                serde_json::to_value(self.gallery_mut(|g| g.find_duplicate(&t, a.threshold))?)?
            }
            GalleryCall::Add(row) => {
                let key = crypto::template_key(master_key(&self.env)?.as_bytes(), &public_id);
                let t = Template::from_bytes(&crypto::open(&key, &row.f, &row.t)?)?;
                // A full shard answers so rather than failing: the app reports GalleryFull.
                let full = match self.local_add_row(row, &t, Vec::new()).await {
                    Err(EdgeError::GalleryFull) => true,
                    other => other.map(|()| false)?,
                };
                serde_json::to_value(AddReply { full })?
            }
            GalleryCall::Remove(a) => {
                self.local_remove_row(&a.fid, Vec::new()).await?;
                json!({})
            }
            GalleryCall::List(a) => serde_json::to_value(self.gallery_mut(|g| ShardList {
                total: g.len(),
                first: g.list(a.upto),
            })?)?,
            GalleryCall::DeleteAll => {
                self.storage().delete_all().await?;
                self.inner.borrow_mut().gallery = None;
                json!({})
            }
            GalleryCall::Control(_) => unreachable!("answered above"),
        };
        Ok((value, None))
    }
}

/// True when the deployment sets `GALLERY_TEST_CONTROLS = "1"` (bench and specs only).
pub fn test_controls_enabled(env: &Env) -> bool {
    env.var("GALLERY_TEST_CONTROLS")
        .map(|v| v.to_string() == "1")
        .unwrap_or(false)
}

/// A small deterministic generator for synthetic templates (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random direction: uniform int8 components are close enough to isotropic for a gallery
    /// whose only job is to be scanned (real probes score ≈ 0 ± 0.08 against it).
    fn template(&mut self) -> Template {
        loop {
            let values: Vec<i8> = (0..fio_core::EMBEDDING_DIM)
                .map(|_| ((self.next() % 255) as i16 - 127) as i8)
                .collect();
            if let Ok(t) = Template::from_values(values) {
                return t;
            }
        }
    }
}
