//! `AppIndex`: one Durable Object per application, the single place where everything that must
//! be consistent is decided (challenges, duplicates, PIN uniqueness and attempts, deletion,
//! quotas) and where the app's templates live as an in-memory int8 index.
//!
//! Storage layout (values are JSON strings):
//! - `config` → [`AppRecord`]; `stats` → [`Stats`]
//! - `shard:{n:06}` → a page of up to [`gallery::PAGE_CAPACITY`] `{f, t, c, d}` rows (facial ID,
//!   sealed template, created ms, details); an enrollment or deletion rewrites one page only.
//!   With `galleryShards` > 1 these pages live in the app's gallery shard objects
//!   `{publicId}#{k}` instead (`fan_out.rs`), which hold nothing else.
//! - `user:{facialId}` → [`FaceRecord`] (payload, PIN hash, …; also replicated to KV)
//! - `pintag:{tag}:{facialId}` → "" (PIN uniqueness); `pinatt:{facialId}` → [`PinAttempts`];
//!   `pinclient:{ip or /64}` → [`PinAttempts`] of one client across facial IDs
//! - `ch:{challengeId}` → [`StoredChallenge`] (consumed flag survives eviction; pruned by alarm)
//! - `kvdel:{facialId}` → "" while the KV copy of a deleted record may still exist (written in
//!   the deletion's commit, removed once KV confirms; the alarm re-drives leftovers)
//!
//! Concurrency: a Durable Object runs one event at a time between awaits, and its storage
//! calls hold the input gate, so a decision followed by storage writes cannot interleave with
//! another request. KV writes and webhooks (which open the gate) happen only after the
//! in-memory state is final.

use std::cell::RefCell;
use std::collections::HashMap;

use fio_core::challenge::{templates_digest, FollowUp, Lineage, CHALLENGE_TTL_MS};
use fio_core::decision::{check_enrollment, EnrollPolicy};
use fio_core::pin::{pin_uniqueness_tag, PinAttempts, PinVerdict, PIN_SALT_LEN};
use fio_core::protocol::validate_payload;
use fio_core::{
    decide_match, format_facial_id, format_iso8601_ms, hash_pin, is_valid_facial_id, new_challenge,
    validate_pin, AuthenticateReply, AuthenticateRequest, AuthenticateResponse, Ceremony,
    Challenge, ChallengeLedger, Embedding, EnrollRequest, EnrollResponse, Error as FioError,
    ErrorCode, PinRequiredResponse, StartRequest, StartResponse, Template,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{
    durable_object, js_sys, wasm_bindgen::JsValue, DurableObject, Env, Request, Response, State,
};

use crate::app_config::{AppOptions, AppPatch, AppRecord, AppStatus};
use crate::crypto;
use crate::do_protocol::{Answer, CallContext, DoCall, DoReply, DoRequest, Param};
use crate::error::{EdgeError, EdgeResult, Retry};
use crate::gate;
use crate::kv_records::{self, FaceRecord, StoredDetails, KV_BINDING};
use crate::rate_limit::RateLimiter;
use crate::reverify;
use crate::webhook::{self, Event, WebhookJob};

/// Most facial IDs `/listfacialids` returns at once.
pub const MAX_LIST_LIMIT: usize = 1000;
/// Default `/listfacialids` page.
const DEFAULT_LIST_LIMIT: usize = 100;
/// Delay before the alarm retries KV deletions that failed (ms).
const KV_RETRY_MS: i64 = 10_000;
/// Shards read per storage list call while loading.
const LOAD_PAGE: usize = 64;

/// Secret names.
const TEMPLATE_KEY: &str = "TEMPLATE_KEY";
const PIN_PEPPER: &str = "PIN_PEPPER";

mod admin;
mod challenges;
mod decide;
mod fan_out;
mod gallery;
mod operator;
mod rest_api;
mod tokens;
mod widget_api;

pub use fan_out::test_controls_enabled;
pub use gallery::GalleryRow;

type Handled = EdgeResult<(Value, Option<WebhookJob>)>;

/// Usage counters reported by `/appstats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Stats {
    /// Successful enrollments ever.
    pub enrollments: u64,
    /// Successful authentications.
    pub authentications: u64,
    /// Failed authentications (unrecognised face, wrong PIN, presentation attack).
    pub failed_authentications: u64,
    /// Deleted facial IDs.
    pub deletions: u64,
}

/// A challenge as persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredChallenge {
    /// The challenge.
    pub challenge: Challenge,
    /// Whether it has been used.
    pub consumed: bool,
    /// Whether a request's evidence crops were measured for it (at most once).
    #[serde(default)]
    pub evidence_claimed: bool,
    /// For a follow-up challenge: the ceremony it continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
}

/// A loaded application.
struct AppData {
    config: AppRecord,
    stats: Stats,
}

impl AppData {
    fn new(config: AppRecord) -> Self {
        Self {
            config,
            stats: Stats::default(),
        }
    }
}

#[derive(Default)]
struct Inner {
    data: Option<AppData>,
    ledger: ChallengeLedger,
    limiter: RateLimiter,
    /// An event a refused request still reports (a facial ID locked by wrong PINs).
    pending_webhook: Option<WebhookJob>,
    /// Token signing keys by (public ID, version): deriving one computes its public point, a
    /// P-256 scalar multiplication as costly as the signature itself.
    signing_keys: HashMap<(String, u32), p256::ecdsa::SigningKey>,
    /// The templates this object holds: the app's whole gallery, or one shard of it.
    gallery: Option<gallery::Gallery>,
    /// How long loading `gallery` last took (ms).
    last_load_ms: Option<u64>,
    /// For a gallery shard object: the public ID of its app.
    shard_of: Option<String>,
    /// Enrollments between their duplicate check and their commit (`fan_out.rs`).
    reservations: Vec<fan_out::Reserved>,
    next_reservation: u64,
    /// A test fault on this shard (`GALLERY_TEST_CONTROLS`).
    fault: crate::do_protocol::FaultMode,
}

/// A cursor over the keys under a prefix (see [`AppIndex::pages`]). Keys at or before the
/// last one returned may be deleted while paging.
struct Pages<'a> {
    index: &'a AppIndex,
    prefix: &'a str,
    size: usize,
    after: Option<String>,
    done: bool,
}

impl Pages<'_> {
    /// The next page, or `None` when every key has been returned.
    async fn next(&mut self) -> EdgeResult<Option<Vec<(String, String)>>> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .index
            .list_page(self.prefix, self.after.as_deref(), self.size)
            .await?;
        self.done = page.len() < self.size;
        match page.last() {
            Some((last, _)) => {
                self.after = Some(last.clone());
                Ok(Some(page))
            }
            None => Ok(None),
        }
    }
}

/// Keys derived from the Worker secrets.
struct Keys {
    template: [u8; 32],
    challenge_tag: [u8; 32],
    pin_tag: [u8; 32],
    pepper: Vec<u8>,
}

/// The per-application Durable Object.
#[durable_object]
pub struct AppIndex {
    state: State,
    env: Env,
    inner: RefCell<Inner>,
}

impl DurableObject for AppIndex {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            inner: RefCell::new(Inner::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let text = req.text().await.unwrap_or_default();
        let result = match serde_json::from_str::<DoRequest>(&text) {
            Ok(call) => self.handle(call).await,
            Err(e) => Err(EdgeError::Internal(format!("bad internal call: {e}"))),
        };
        let mut reply = DoReply::from_result(result);
        let pending = self.inner.borrow_mut().pending_webhook.take();
        if reply.webhook.is_none() {
            reply.webhook = pending;
        }
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let now = now_ms();
        self.inner.borrow_mut().ledger.prune(now);
        if let Err(e) = self.prune_stored_challenges(now).await {
            worker::console_error!("challenge pruning: {e}");
        }
        match self.prune_redeemed_tokens(now).await {
            Ok(false) => {}
            Ok(true) => {
                if let Err(e) = self.ensure_alarm().await {
                    worker::console_error!("alarm: {e}");
                }
            }
            Err(e) => worker::console_error!("redeemed-token pruning: {e}"),
        }
        if let Err(e) = self.redrive_kv_deletions().await {
            worker::console_error!("KV deletion re-drive: {e}");
        }
        Response::ok("pruned")
    }
}

/// The `TEMPLATE_KEY` secret every key of the deployment is derived from.
pub fn master_key(env: &Env) -> EdgeResult<String> {
    env.secret(TEMPLATE_KEY)
        .map(|s| s.to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EdgeError::Internal("TEMPLATE_KEY secret is not set".into()))
}

fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// A facial ID parameter: required and well-formed.
fn facial_id_arg(p: &Option<Param>, name: &'static str) -> EdgeResult<String> {
    let fid =
        Param::text(p, name)?.ok_or_else(|| EdgeError::bad_request(format!("missing `{name}`")))?;
    if is_valid_facial_id(&fid) {
        Ok(fid)
    } else {
        Err(EdgeError::bad_request(format!("invalid `{name}`")))
    }
}

impl AppIndex {
    fn storage(&self) -> worker::Storage {
        self.state.storage()
    }

    fn keys(&self) -> EdgeResult<Keys> {
        let master = master_key(&self.env)?;
        // The front worker refuses to serve without the pepper; never hash without it here.
        let pepper = self
            .env
            .secret(PIN_PEPPER)
            .map(|s| s.to_string())
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EdgeError::Misconfigured(format!("{PIN_PEPPER} is not set")))?;
        let public_id = self
            .inner
            .borrow()
            .data
            .as_ref()
            .map(|d| d.config.public_id.clone())
            .unwrap_or_default();
        let tag_secret = pepper.as_str();
        Ok(Keys {
            template: crypto::template_key(master.as_bytes(), &public_id),
            challenge_tag: crypto::derive_key(master.as_bytes(), "challenge", ""),
            pin_tag: crypto::derive_key(tag_secret.as_bytes(), "pin-uniqueness", ""),
            pepper: pepper.into_bytes(),
        })
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> EdgeResult<Option<T>> {
        match self.storage().get::<String>(key).await? {
            Some(s) => Ok(Some(serde_json::from_str(&s)?)),
            None => Ok(None),
        }
    }

    async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> EdgeResult<()> {
        self.storage()
            .put(key, serde_json::to_string(value)?)
            .await?;
        Ok(())
    }

    /// Writes and deletes keys as one atomic commit: both storage calls are issued in the same
    /// turn, with no await between them, which the runtime coalesces into one transaction.
    async fn commit(&self, puts: &[(String, String)], deletes: Vec<String>) -> EdgeResult<()> {
        let storage = self.storage();
        let put = self.put_many(puts);
        let delete = async {
            if deletes.is_empty() {
                Ok(0)
            } else {
                storage
                    .delete_multiple(deletes)
                    .await
                    .map_err(EdgeError::from)
            }
        };
        futures_util::future::try_join(put, delete).await?;
        Ok(())
    }

    /// Makes a decision's writes in one atomic commit.
    async fn apply(&self, writes: Vec<decide::Write>) -> EdgeResult<()> {
        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        for w in writes {
            match w {
                decide::Write::Put(k, v) => puts.push((k, v)),
                decide::Write::Delete(k) => deletes.push(k),
            }
        }
        self.commit(&puts, deletes).await
    }

    /// Writes several keys in one atomic storage call.
    async fn put_many(&self, entries: &[(String, String)]) -> EdgeResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let obj = js_sys::Object::new();
        for (k, v) in entries {
            js_sys::Reflect::set(&obj, &JsValue::from_str(k), &JsValue::from_str(v))
                .map_err(|_| EdgeError::Internal("building storage batch".into()))?;
        }
        self.storage().put_multiple_raw(obj).await?;
        Ok(())
    }

    /// Lists `(key, value)` string pairs under a prefix, in key order, after `after` (exclusive).
    async fn list_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> EdgeResult<Vec<(String, String)>> {
        let start = after.map(|a| format!("{a}\0"));
        let mut opts = worker::ListOptions::new().prefix(prefix).limit(limit);
        if let Some(s) = &start {
            opts = opts.start(s);
        }
        let map = self.storage().list_with_options(opts).await?;
        let mut out = Vec::new();
        map.for_each(&mut |value, key| {
            if let (Some(k), Some(v)) = (key.as_string(), value.as_string()) {
                out.push((k, v));
            }
        });
        out.sort();
        Ok(out)
    }

    /// Every `(key, value)` under `prefix`, `size` at a time, in key order.
    fn pages<'a>(&'a self, prefix: &'a str, size: usize) -> Pages<'a> {
        Pages {
            index: self,
            prefix,
            size,
            after: None,
            done: false,
        }
    }

    /// Loads config and stats once per Durable Object lifetime (the gallery loads on first
    /// use, `fan_out.rs`).
    async fn ensure_loaded(&self) -> EdgeResult<()> {
        if self.inner.borrow().data.is_some() {
            return Ok(());
        }
        let Some(config) = self.get_json::<AppRecord>("config").await? else {
            return Ok(());
        };
        let stats = self.get_json::<Stats>("stats").await?.unwrap_or_default();
        let mut data = AppData::new(config);
        data.stats = stats;
        // A deletion whose KV delete never ran (the object was reset right after its commit)
        // left a tombstone and maybe no alarm: re-drive it soon.
        if !self.list_page("kvdel:", None, 1).await?.is_empty() {
            self.storage().set_alarm(KV_RETRY_MS).await?;
        }
        let mut inner = self.inner.borrow_mut();
        if inner.data.is_none() {
            inner.data = Some(data);
        }
        Ok(())
    }

    async fn handle(&self, req: DoRequest) -> EdgeResult<Answer> {
        let now = now_ms();
        let DoRequest { ctx, call } = req;
        if let DoCall::Gallery(g) = call {
            return self.serve_shard(&ctx, g).await.map(Answer::from);
        }
        self.ensure_loaded().await?;
        if ctx.demo && self.inner.borrow().data.is_none() {
            self.create_app(&ctx.public_id, "Demo", AppOptions::default(), None, 1, now)
                .await?;
        }
        if call.is_widget() {
            self.widget_gate(&ctx, now, true)?;
        }
        if matches!(call, DoCall::ClaimEvidence(_)) {
            // Part of the enroll/authenticate request that follows: admitted alike, not counted.
            self.widget_gate(&ctx, now, false)?;
        }
        if call.is_rest() {
            self.rest_gate(&ctx, now)?;
        }
        // The two calls that issue a login token answer it unsigned (`Answer::sign`).
        let call = match call {
            DoCall::Enroll(args) => return self.enroll(&ctx, args, now).await,
            DoCall::Authenticate(args) => return self.authenticate(&ctx, args, now).await,
            other => other,
        };
        let handled: Handled = match call {
            DoCall::Start(body) => self.start(&ctx, body, now).await,
            DoCall::Enroll(_) | DoCall::Authenticate(_) => unreachable!("answered above"),
            DoCall::AdminCreate(args) => self.admin_create(&ctx, args, now).await,
            DoCall::AdminGet => self.with_app(|d| Ok((d.config.public_view(), None))),
            DoCall::AdminPatch(patch) => self.admin_patch(patch).await,
            DoCall::DeleteFacialId(args) | DoCall::AdminDeleteFacialId(args) => {
                self.delete_facial_id(&ctx, &args, now).await
            }
            DoCall::SetPayload(args) => self.set_payload(args, now).await,
            DoCall::SetPin(args) => self.set_pin(&ctx, &args, now).await,
            DoCall::AppStats | DoCall::AdminStats => {
                let enrolled = self.gallery_len().await?;
                self.with_app(|d| {
                    Ok((
                        json!({
                            "status": 200,
                            "enrolled": enrolled,
                            "enrollments": d.stats.enrollments,
                            "authentications": d.stats.authentications,
                            "failedAuthentications": d.stats.failed_authentications,
                            "deletions": d.stats.deletions,
                        }),
                        None,
                    ))
                })
            }
            DoCall::ListFacialIds(args) | DoCall::AdminListFacialIds(args) => {
                self.list_facial_ids(&args).await
            }
            DoCall::AdminList => self.directory_list().await,
            DoCall::DirRegister(entry) => self.directory_register(&entry).await,
            DoCall::DirRemove(args) => self.directory_remove(&args.public_id).await,
            DoCall::AdminDelete => self.delete_app().await,
            DoCall::AdminRotateApiKey(args) => self.rotate_api_key(args, now).await,
            DoCall::AdminRotateWebhookSecret(args) => {
                self.rotate_webhook_secret(args.grace_ms, now).await
            }
            DoCall::AdminWebhookTest => self.webhook_test(&ctx, now),
            DoCall::RecordDelivery(d) => self.record_delivery(d).await,
            DoCall::AdminDeliveries => self.deliveries().await,
            DoCall::CheckFacialId(args) => self.check_facial_id(&args).await,
            DoCall::ImageCheck => self.with_app(|d| {
                Ok((
                    json!({"matchThreshold": d.config.options.match_threshold}),
                    None,
                ))
            }),
            DoCall::ClaimEvidence(args) => self.claim_evidence(&args, now).await,
            DoCall::Jwks => self.jwks(now),
            DoCall::VerifyToken(args) => self.verify_token(&args, now).await,
            DoCall::AdminRotateSigningKey => self.rotate_signing_key(now).await,
            DoCall::AdminGalleryControl(c) => self.gallery_control(c).await,
            DoCall::Gallery(_) => unreachable!("answered above"),
        };
        handled.map(Answer::from)
    }

    fn with_app<T>(&self, f: impl FnOnce(&AppData) -> EdgeResult<T>) -> EdgeResult<T> {
        let inner = self.inner.borrow();
        let data = inner
            .data
            .as_ref()
            .ok_or(EdgeError::NotFound("application"))?;
        f(data)
    }

    /// Applies a final in-memory update (after the storage writes it mirrors have succeeded).
    fn with_app_mut<T>(&self, f: impl FnOnce(&mut AppData) -> T) -> EdgeResult<T> {
        let mut inner = self.inner.borrow_mut();
        let data = inner
            .data
            .as_mut()
            .ok_or(EdgeError::NotFound("application"))?;
        Ok(f(data))
    }

    fn options(&self) -> EdgeResult<AppOptions> {
        self.with_app(|d| Ok(d.config.options.clone()))
    }

    // ---- admission -------------------------------------------------------------------------

    /// App active → origin → country → quotas (when `count`).
    fn widget_gate(&self, ctx: &CallContext, now: u64, count: bool) -> EdgeResult<()> {
        let mut inner = self.inner.borrow_mut();
        let Inner { data, limiter, .. } = &mut *inner;
        decide::admit_widget(data.as_ref().map(|d| &d.config), ctx, limiter, now, count)
    }

    /// API key → REST quota.
    fn rest_gate(&self, ctx: &CallContext, now: u64) -> EdgeResult<()> {
        let mut inner = self.inner.borrow_mut();
        let Inner { data, limiter, .. } = &mut *inner;
        decide::admit_rest(data.as_ref().map(|d| &d.config), ctx, limiter, now)
    }
}

/// The webhook for an event, when the app has a URL.
fn webhook_job(
    d: &AppData,
    event: Event,
    facial_id: &str,
    client_ip: &str,
    now: u64,
    details: StoredDetails,
) -> Option<WebhookJob> {
    let url = d.config.options.webhook_url.clone()?;
    Some(WebhookJob {
        url,
        secret: d.config.webhook_secret.clone(),
        body: webhook::event_body(
            event,
            facial_id,
            &d.config.public_id,
            client_ip,
            now,
            details,
        ),
        faceio_token: d
            .config
            .options
            .faceio_webhook_token
            .then(|| webhook::faceio_token(&d.config.webhook_secret)),
        previous_secret: d
            .config
            .previous_webhook_secret
            .as_ref()
            .filter(|p| now < p.until_ms)
            .map(|p| p.value.clone()),
    })
}
