//! `AppIndex`: one Durable Object per application, the single place where everything that must
//! be consistent is decided (challenges, duplicates, PIN uniqueness and attempts, deletion,
//! quotas) and where the app's templates live as an in-memory int8 index.
//!
//! Storage layout (values are JSON strings):
//! - `config` → [`AppRecord`]; `stats` → [`Stats`]
//! - `shard:{n:06}` → up to [`SHARD_CAPACITY`] `{f, t, c, g, a}` entries (facial ID, sealed
//!   template, created ms, gender, age); an enrollment or deletion rewrites one shard only
//! - `user:{facialId}` → [`FaceRecord`] (payload, PIN hash, …; also replicated to KV)
//! - `pintag:{tag}:{facialId}` → "" (PIN uniqueness); `pinatt:{facialId}` → [`PinAttempts`]
//! - `ch:{challengeId}` → [`StoredChallenge`] (consumed flag survives eviction; pruned by alarm)
//!
//! Concurrency: a Durable Object runs one event at a time between awaits, and its storage
//! calls hold the input gate, so a decision followed by storage writes cannot interleave with
//! another request. KV writes and webhooks (which open the gate) happen only after the
//! in-memory state is final.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use fio_core::challenge::CHALLENGE_TTL_MS;
use fio_core::decision::{check_enrollment, EnrollPolicy, LIVENESS_THRESHOLD};
use fio_core::liveness::{self, Thresholds, Verdict};
use fio_core::pin::{pin_uniqueness_tag, PinAttempts, PinVerdict, PIN_SALT_LEN};
use fio_core::protocol::{parse_request, validate_payload, LivenessMode};
use fio_core::{
    decide_match, format_facial_id, format_iso8601_ms, hash_pin, is_valid_facial_id, new_challenge,
    validate_pin, verify_pin, AuthenticateReply, AuthenticateRequest, AuthenticateResponse,
    Ceremony, Challenge, ChallengeLedger, Embedding, EnrollRequest, EnrollResponse,
    Error as FioError, ErrorCode, LivenessEvidence, MatchOutcome, PinRequiredResponse,
    StartRequest, StartResponse, Template, TemplateIndex,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{
    durable_object, js_sys, wasm_bindgen::JsValue, DurableObject, Env, Request, Response, State,
};

use crate::app_config::{AppCreate, AppOptions, AppPatch, AppRecord, AppStatus};
use crate::crypto;
use crate::do_protocol::{DoCall, DoReply, Op};
use crate::error::{EdgeError, EdgeResult, Retry};
use crate::evidence;
use crate::gate;
use crate::kv_records::{self, FaceRecord, StoredDetails, KV_BINDING};
use crate::rate_limit::RateLimiter;
use crate::webhook::{self, Event, WebhookJob};

/// Entries per template shard (~360 bytes each, well under the 128 KiB value limit).
pub const SHARD_CAPACITY: usize = 256;
/// Most facial IDs `/listfacialids` returns at once.
pub const MAX_LIST_LIMIT: usize = 1000;
/// Default `/listfacialids` page.
const DEFAULT_LIST_LIMIT: usize = 100;
/// Shards read per storage list call while loading.
const LOAD_PAGE: usize = 64;

/// Secret names.
const TEMPLATE_KEY: &str = "TEMPLATE_KEY";
const PIN_PEPPER: &str = "PIN_PEPPER";

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
}

/// One row of a template shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ShardEntry {
    /// Facial ID.
    f: String,
    /// Sealed template.
    t: String,
    /// Created at (unix ms).
    c: u64,
    /// Details.
    d: StoredDetails,
}

/// What memory keeps per user besides the template row.
#[derive(Debug, Clone)]
struct UserMeta {
    shard: u32,
    created_at_ms: u64,
    details: StoredDetails,
}

/// A loaded application.
struct AppData {
    config: AppRecord,
    stats: Stats,
    index: TemplateIndex<String>,
    users: HashMap<String, UserMeta>,
    shard_sizes: BTreeMap<u32, usize>,
}

impl AppData {
    fn new(config: AppRecord) -> Self {
        Self {
            config,
            stats: Stats::default(),
            index: TemplateIndex::new(),
            users: HashMap::new(),
            shard_sizes: BTreeMap::new(),
        }
    }

    /// First shard with room, or a new one.
    fn shard_for_new_entry(&self) -> u32 {
        self.shard_sizes
            .iter()
            .find(|(_, &n)| n < SHARD_CAPACITY)
            .map(|(&k, _)| k)
            .unwrap_or_else(|| self.shard_sizes.keys().next_back().map_or(0, |k| k + 1))
    }
}

#[derive(Default)]
struct Inner {
    data: Option<AppData>,
    ledger: ChallengeLedger,
    limiter: RateLimiter,
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
        let result = match serde_json::from_str::<DoCall>(&text) {
            Ok(call) => self.handle(call).await,
            Err(e) => Err(EdgeError::Internal(format!("bad internal call: {e}"))),
        };
        Response::from_json(&DoReply::from_result(result))
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let now = now_ms();
        self.inner.borrow_mut().ledger.prune(now);
        if let Err(e) = self.prune_stored_challenges(now).await {
            worker::console_error!("challenge pruning: {e}");
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

fn facial_id_arg(args: &Value, name: &'static str) -> EdgeResult<String> {
    let fid =
        str_arg(args, name)?.ok_or_else(|| EdgeError::bad_request(format!("missing `{name}`")))?;
    if is_valid_facial_id(&fid) {
        Ok(fid)
    } else {
        Err(EdgeError::bad_request(format!("invalid `{name}`")))
    }
}

/// A string parameter (numbers and booleans are accepted as their text).
fn str_arg(args: &Value, name: &str) -> EdgeResult<Option<String>> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(EdgeError::bad_request(format!("`{name}` must be a string"))),
    }
}

/// A non-negative integer parameter.
fn usize_arg(args: &Value, name: &str) -> EdgeResult<Option<usize>> {
    match str_arg(args, name)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s.trim().parse::<usize>().map(Some).map_err(|_| {
            EdgeError::bad_request(format!("`{name}` must be a non-negative integer"))
        }),
    }
}

/// Active liveness: the prompted actions must have been observed, in order.
fn check_liveness(
    mode: LivenessMode,
    ev: &LivenessEvidence,
    challenge: &Challenge,
) -> EdgeResult<()> {
    if mode == LivenessMode::Off {
        return Ok(());
    }
    if !ev.passed || ev.score.is_nan() || ev.score < LIVENESS_THRESHOLD {
        return Err(FioError::PadAttack.into());
    }
    if mode == LivenessMode::Active
        && !challenge.actions.is_empty()
        && ev.actions != challenge.actions
    {
        return Err(FioError::PadAttack.into());
    }
    // The widget's own verdict is not trusted: re-run the shared decision on its cues. Without
    // edge re-verification these cues are still client claims (see README: tampered client).
    let Some(report) = &ev.report else {
        return Err(FioError::PadAttack.into());
    };
    // Follow-up challenges (PIN prompt, PIN-uniqueness retry) carry no actions and are only
    // issued after the original ceremony's evidence passed, which the widget resends.
    let expected = if challenge.actions.is_empty() {
        &report.actions
    } else {
        &challenge.actions
    };
    match liveness::decide(mode, report, expected, &Thresholds::DEFAULT) {
        Verdict::Live => Ok(()),
        _ => Err(FioError::PadAttack.into()),
    }
}

impl AppIndex {
    fn storage(&self) -> worker::Storage {
        self.state.storage()
    }

    fn keys(&self) -> EdgeResult<Keys> {
        let master = master_key(&self.env)?;
        let pepper = self
            .env
            .secret(PIN_PEPPER)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let public_id = self
            .inner
            .borrow()
            .data
            .as_ref()
            .map(|d| d.config.public_id.clone())
            .unwrap_or_default();
        let tag_secret = if pepper.is_empty() {
            master.as_str()
        } else {
            pepper.as_str()
        };
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

    /// Loads config, stats and every template shard once per Durable Object lifetime.
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
        // The key derivation needs the public ID, so install the config first.
        let master = self
            .env
            .secret(TEMPLATE_KEY)
            .map(|s| s.to_string())
            .map_err(|_| EdgeError::Internal("TEMPLATE_KEY secret is not set".into()))?;
        let key = crypto::template_key(master.as_bytes(), &data.config.public_id);
        let mut after: Option<String> = None;
        loop {
            let page = self
                .list_page("shard:", after.as_deref(), LOAD_PAGE)
                .await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (k, v) in &page {
                let Some(n) = k.strip_prefix("shard:").and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                let entries: Vec<ShardEntry> = serde_json::from_str(v)?;
                data.shard_sizes.insert(n, entries.len());
                for e in entries {
                    let template = crypto::open(&key, &e.f, &e.t)
                        .and_then(|b| Template::from_bytes(&b).map_err(EdgeError::from));
                    match template {
                        Ok(t) => {
                            data.index.add(e.f.clone(), &t);
                            data.users.insert(
                                e.f,
                                UserMeta {
                                    shard: n,
                                    created_at_ms: e.c,
                                    details: e.d,
                                },
                            );
                        }
                        Err(err) => worker::console_error!("skipping template {}: {err}", e.f),
                    }
                }
            }
            if page.len() < LOAD_PAGE {
                break;
            }
        }
        let mut inner = self.inner.borrow_mut();
        if inner.data.is_none() {
            inner.data = Some(data);
        }
        Ok(())
    }

    async fn handle(&self, call: DoCall) -> Handled {
        let now = now_ms();
        self.ensure_loaded().await?;
        if call.demo && self.inner.borrow().data.is_none() {
            self.create_app(&call.public_id, "Demo", AppOptions::default(), None, now)
                .await?;
        }
        if call.op.is_widget() {
            self.widget_gate(&call, now, true)?;
        }
        if call.op == Op::ClaimEvidence {
            // Part of the enroll/authenticate request that follows: admitted alike, not counted.
            self.widget_gate(&call, now, false)?;
        }
        if call.op.is_rest() {
            self.rest_gate(&call, now)?;
        }
        match call.op {
            Op::Start => self.start(&call, now).await,
            Op::Enroll => self.enroll(&call, now).await,
            Op::Authenticate => self.authenticate(&call, now).await,
            Op::AdminCreate => self.admin_create(&call, now).await,
            Op::AdminGet => self.with_app(|d| Ok((d.config.public_view(), None))),
            Op::AdminPatch => self.admin_patch(&call).await,
            Op::DeleteFacialId => self.delete_facial_id(&call, now).await,
            Op::SetPayload => self.set_payload(&call, now).await,
            Op::SetPin => self.set_pin(&call, now).await,
            Op::AppStats => self.with_app(|d| {
                Ok((
                    json!({
                        "status": 200,
                        "enrolled": d.index.len(),
                        "enrollments": d.stats.enrollments,
                        "authentications": d.stats.authentications,
                        "failedAuthentications": d.stats.failed_authentications,
                        "deletions": d.stats.deletions,
                    }),
                    None,
                ))
            }),
            Op::ListFacialIds => self.list_facial_ids(&call),
            Op::ClaimEvidence => self.claim_evidence(&call, now).await,
        }
    }

    fn with_app<T>(&self, f: impl FnOnce(&AppData) -> EdgeResult<T>) -> EdgeResult<T> {
        let inner = self.inner.borrow();
        let data = inner
            .data
            .as_ref()
            .ok_or(EdgeError::NotFound("application"))?;
        f(data)
    }

    fn options(&self) -> EdgeResult<AppOptions> {
        self.with_app(|d| Ok(d.config.options.clone()))
    }

    // ---- admission -------------------------------------------------------------------------

    /// App active → origin → country → quotas (when `count`).
    fn widget_gate(&self, call: &DoCall, now: u64, count: bool) -> EdgeResult<()> {
        let mut inner = self.inner.borrow_mut();
        let Inner { data, limiter, .. } = &mut *inner;
        let data = data
            .as_ref()
            .ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
        if data.config.status != AppStatus::Active {
            return Err(ErrorCode::Unauthorized.into());
        }
        let opts = &data.config.options;
        gate::check_origin(opts, call.origin.as_deref(), call.referer.as_deref())?;
        gate::check_country(opts, call.country.as_deref())?;
        let ip_key = format!("ip:{}", call.client_ip);
        let keys = [
            ("app", opts.quota_per_minute),
            (ip_key.as_str(), opts.ip_quota_per_minute),
        ];
        if count && !limiter.allow_all(&keys, now) {
            return Err(ErrorCode::TooManyRequests.into());
        }
        Ok(())
    }

    /// API key (compared as SHA-256 hashes) → REST quota. Paused apps keep their REST API so
    /// operators can still delete data; blocked apps lose it.
    fn rest_gate(&self, call: &DoCall, now: u64) -> EdgeResult<()> {
        let mut inner = self.inner.borrow_mut();
        let Inner { data, limiter, .. } = &mut *inner;
        let data = data
            .as_ref()
            .ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
        let given = crypto::hex(&crypto::sha256(
            call.api_key.as_deref().unwrap_or_default().as_bytes(),
        ));
        if call.api_key.is_none()
            || !crypto::constant_time_eq(given.as_bytes(), data.config.api_key_hash.as_bytes())
            || data.config.status == AppStatus::Blocked
        {
            return Err(ErrorCode::Unauthorized.into());
        }
        if !limiter.allow("rest", data.config.options.rest_quota_per_minute, now) {
            return Err(ErrorCode::TooManyRequests.into());
        }
        Ok(())
    }

    // ---- challenges ------------------------------------------------------------------------

    /// Issues and persists a challenge.
    async fn issue_challenge(
        &self,
        ceremony: Ceremony,
        actions: usize,
        now: u64,
    ) -> EdgeResult<(Challenge, [u8; 32])> {
        let keys = self.keys()?;
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let random = crypto::challenge_random(&keys.challenge_tag, &public_id)?;
        let c = new_challenge(
            &random,
            &public_id,
            ceremony,
            now,
            CHALLENGE_TTL_MS,
            actions,
        );
        self.inner.borrow_mut().ledger.insert(c.clone(), now)?;
        self.put_json(
            &format!("ch:{}", c.id),
            &StoredChallenge {
                challenge: c.clone(),
                consumed: false,
                evidence_claimed: false,
            },
        )
        .await?;
        if self.storage().get_alarm().await?.is_none() {
            // Prune leftovers shortly after this challenge expires.
            self.storage()
                .set_alarm((CHALLENGE_TTL_MS + 60_000) as i64)
                .await?;
        }
        Ok((c, random))
    }

    /// Marks a challenge used (in memory and storage), then checks app, ceremony and expiry.
    async fn consume_challenge(
        &self,
        id: &str,
        ceremony: Ceremony,
        now: u64,
    ) -> EdgeResult<Challenge> {
        if !fio_core::protocol::is_valid_challenge_id(id) {
            return Err(EdgeError::bad_request("invalid challengeId"));
        }
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        let from_memory = self.inner.borrow_mut().ledger.consume(id, now);
        let challenge = match from_memory {
            Ok(c) => c,
            Err(FioError::UnknownChallenge) => {
                // Not in memory: issued before an eviction, or never issued here.
                match self
                    .get_json::<StoredChallenge>(&format!("ch:{id}"))
                    .await?
                {
                    Some(s) if s.consumed => return Err(FioError::ChallengeReplayed.into()),
                    Some(s) if s.challenge.is_expired(now) => {
                        self.storage().delete(&format!("ch:{id}")).await?;
                        return Err(FioError::SessionExpired.into());
                    }
                    Some(s) => s.challenge,
                    None => return Err(self.unknown_challenge(&public_id, id)?),
                }
            }
            Err(e) => return Err(e.into()),
        };
        self.put_json(
            &format!("ch:{id}"),
            &StoredChallenge {
                challenge: challenge.clone(),
                consumed: true,
                evidence_claimed: false,
            },
        )
        .await?;
        challenge.validate(&public_id, ceremony, now)?;
        Ok(challenge)
    }

    /// Why a challenge ID this app does not hold is refused: issued for another app, or unknown.
    fn unknown_challenge(&self, public_id: &str, id: &str) -> EdgeResult<EdgeError> {
        let keys = self.keys()?;
        Ok(
            match crypto::challenge_origin(&keys.challenge_tag, public_id, id) {
                crypto::ChallengeOrigin::OtherApp => FioError::ChallengeMismatch("application"),
                _ => FioError::UnknownChallenge,
            }
            .into(),
        )
    }

    /// Reserves a live, unused challenge's one evidence measurement, in memory and in storage
    /// (`ChallengeLedger::claim_evidence`): a replayed request is refused before inference.
    async fn claim_evidence(&self, call: &DoCall, now: u64) -> Handled {
        let id = str_arg(&call.args, "challengeId")?.unwrap_or_default();
        if !fio_core::protocol::is_valid_challenge_id(&id) {
            return Err(EdgeError::bad_request("invalid challengeId"));
        }
        let ceremony: Ceremony = serde_json::from_value(call.args["ceremony"].clone())
            .map_err(|_| EdgeError::bad_request("invalid ceremony"))?;
        let public_id = self.with_app(|d| Ok(d.config.public_id.clone()))?;
        // Memory first (it knows a claim made since the last eviction), then storage, which
        // survives evictions and is authoritative.
        match self.inner.borrow_mut().ledger.claim_evidence(&id, now) {
            Ok(()) | Err(FioError::UnknownChallenge) => {}
            Err(e) => return Err(e.into()),
        }
        let key = format!("ch:{id}");
        let Some(mut stored) = self.get_json::<StoredChallenge>(&key).await? else {
            return Err(self.unknown_challenge(&public_id, &id)?);
        };
        if stored.consumed || stored.evidence_claimed {
            return Err(FioError::ChallengeReplayed.into());
        }
        stored.challenge.validate(&public_id, ceremony, now)?;
        stored.evidence_claimed = true;
        self.put_json(&key, &stored).await?;
        Ok((json!({ "claimed": true }), None))
    }

    async fn prune_stored_challenges(&self, now: u64) -> EdgeResult<()> {
        let mut after: Option<String> = None;
        let mut live = false;
        loop {
            let page = self.list_page("ch:", after.as_deref(), 256).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let mut dead = Vec::new();
            for (k, v) in &page {
                match serde_json::from_str::<StoredChallenge>(v) {
                    Ok(s) if !s.challenge.is_expired(now) => live = true,
                    _ => dead.push(k.clone()),
                }
            }
            for chunk in dead.chunks(128) {
                self.storage().delete_multiple(chunk.to_vec()).await?;
            }
            if page.len() < 256 {
                break;
            }
        }
        if live {
            self.storage()
                .set_alarm((CHALLENGE_TTL_MS + 60_000) as i64)
                .await?;
        }
        Ok(())
    }

    // ---- widget API ------------------------------------------------------------------------

    fn body(call: &DoCall) -> EdgeResult<&[u8]> {
        call.body
            .as_deref()
            .map(str::as_bytes)
            .ok_or_else(|| EdgeError::bad_request("body is not UTF-8"))
    }

    async fn start(&self, call: &DoCall, now: u64) -> Handled {
        let req: StartRequest = parse_request(Self::body(call)?)?;
        if req.app_id.as_deref().is_some_and(|a| a != call.public_id) {
            return Err(ErrorCode::Unauthorized.into());
        }
        let opts = self.options()?;
        let (c, random) = self
            .issue_challenge(req.ceremony, opts.action_count(), now)
            .await?;
        let nonce = crypto::hex(&crypto::sha256(&random)[..16]);
        let mut resp = StartResponse::new(&c, nonce, opts.widget_policy());
        if opts.requires_evidence() {
            let master = master_key(&self.env)?;
            resp.evidence_key = Some(evidence::sealing::ceremony_public_key(
                master.as_bytes(),
                &c.id,
            ));
        }
        Ok((serde_json::to_value(resp)?, None))
    }

    async fn enroll(&self, call: &DoCall, now: u64) -> Handled {
        let req: EnrollRequest = parse_request(Self::body(call)?)?;
        let challenge = self
            .consume_challenge(&req.challenge_id, Ceremony::Enroll, now)
            .await?;
        let opts = self.options()?;
        let templates = req.validate(&opts.pin_policy())?;
        let embeddings: Vec<Embedding> = templates.iter().map(Template::to_embedding).collect();
        let mean = check_enrollment(
            &embeddings,
            &EnrollPolicy {
                min_frames: 1,
                ..EnrollPolicy::default()
            },
        )?;
        check_liveness(opts.liveness_mode, &req.liveness, &challenge)?;
        evidence::check(
            opts.requires_evidence(),
            call.evidence.as_ref(),
            &challenge,
            &templates,
        )?;
        if let Some(min) = opts.min_age {
            if req.details.age.is_nan() || req.details.age < f32::from(min) {
                return Err(FioError::MinorNotAllowed.into());
            }
        }
        let template = mean.to_template();
        if opts.prevent_duplicates {
            let dup = self.with_app(|d| Ok(d.index.find_duplicate(&template, opts.threshold())))?;
            if dup.is_some() {
                return Err(FioError::FaceDuplication.into());
            }
        }
        let keys = self.keys()?;
        let public_id = call.public_id.clone();
        let pin_tag = pin_uniqueness_tag(&keys.pin_tag, &public_id, &req.pin);
        if opts.enforce_pin_uniqueness && self.pin_tag_in_use(&pin_tag, None).await? {
            let (c, _) = self.issue_challenge(Ceremony::Enroll, 0, now).await?;
            return Err(EdgeError::PinNotUnique(Retry {
                challenge_id: c.id,
                expires_at: format_iso8601_ms(c.expires_at_ms),
            }));
        }

        let facial_id = loop {
            let fid = format_facial_id(&crypto::random_array()?);
            if !self.with_app(|d| Ok(d.users.contains_key(&fid)))? {
                break fid;
            }
        };
        let salt: [u8; PIN_SALT_LEN] = crypto::random_array()?;
        let pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &req.pin), &salt);
        let sealed = crypto::seal(&keys.template, &facial_id, &template.to_bytes())?;
        let response = EnrollResponse::new(facial_id.clone(), now, &req.details);
        let details = StoredDetails {
            gender: response.details.gender,
            age: response.details.age,
        };
        let record = FaceRecord {
            public_id: public_id.clone(),
            facial_id: facial_id.clone(),
            payload: req.payload.clone(),
            pin_hash,
            pin_tag: pin_tag.clone(),
            details,
            created_at_ms: now,
            updated_at_ms: now,
            template: sealed.clone(),
        };

        // Decide the shard and build every write, then commit in one storage call.
        let (shard, stats) = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.enrollments += 1;
            Ok((d.shard_for_new_entry(), s))
        })?;
        let shard_key = format!("shard:{shard:06}");
        let mut entries: Vec<ShardEntry> = self.get_json(&shard_key).await?.unwrap_or_default();
        entries.push(ShardEntry {
            f: facial_id.clone(),
            t: sealed,
            c: now,
            d: details,
        });
        let shard_len = entries.len();
        self.put_many(&[
            (shard_key, serde_json::to_string(&entries)?),
            (format!("user:{facial_id}"), serde_json::to_string(&record)?),
            (format!("pintag:{pin_tag}:{facial_id}"), String::new()),
            ("stats".to_owned(), serde_json::to_string(&stats)?),
        ])
        .await?;

        let webhook = {
            let mut inner = self.inner.borrow_mut();
            let d = inner
                .data
                .as_mut()
                .ok_or(EdgeError::NotFound("application"))?;
            d.index.add(facial_id.clone(), &template);
            d.users.insert(
                facial_id.clone(),
                UserMeta {
                    shard,
                    created_at_ms: now,
                    details,
                },
            );
            d.shard_sizes.insert(shard, shard_len);
            d.stats = stats;
            webhook_job(d, Event::Enroll, &facial_id, &call.client_ip, now, details)
        };
        self.replicate(&record).await;
        Ok((serde_json::to_value(response)?, webhook))
    }

    async fn authenticate(&self, call: &DoCall, now: u64) -> Handled {
        let req: AuthenticateRequest = parse_request(Self::body(call)?)?;
        let challenge = self
            .consume_challenge(&req.challenge_id, Ceremony::Authenticate, now)
            .await?;
        let opts = self.options()?;
        let probe = req.validate()?;
        let checked =
            check_liveness(opts.liveness_mode, &req.liveness, &challenge).and_then(|_| {
                evidence::check(
                    opts.requires_evidence(),
                    call.evidence.as_ref(),
                    &challenge,
                    std::slice::from_ref(&probe),
                )
            });
        if let Err(e) = checked {
            self.count_failure().await?;
            return Err(e);
        }
        let policy = opts.match_policy();
        let (outcome, candidates) = self.with_app(|d| {
            let (best, second) = d.index.best_two(&probe);
            let named = |h: Option<(usize, f32)>| {
                h.and_then(|(slot, s)| d.index.id(slot).map(|id| (id.clone(), s)))
            };
            let (best, second) = (named(best), named(second));
            let candidates: Vec<String> = [&best, &second]
                .into_iter()
                .flatten()
                .filter(|(_, s)| *s >= policy.threshold)
                .map(|(id, _)| id.clone())
                .collect();
            Ok((decide_match(best, second, &policy), candidates))
        })?;
        let (best_id, pin_reason) = match outcome {
            MatchOutcome::Unrecognized => {
                self.count_failure().await?;
                return Err(FioError::Unrecognized.into());
            }
            MatchOutcome::Accepted { id } => (
                id,
                opts.always_ask_pin
                    .then_some(fio_core::PinReason::AlwaysAsk),
            ),
            MatchOutcome::AcceptedNeedsPin { id, reason } => (id, Some(reason)),
        };

        // A locked facial ID answers WRONG_PIN_CODE until the lockout ends.
        let best_attempts = self.pin_attempts(&best_id).await?;
        if let Err(e) = best_attempts.check(now) {
            self.count_failure().await?;
            return Err(e.into());
        }

        let matched = match (&req.pin, pin_reason) {
            (None, None) => best_id,
            (None, Some(reason)) => {
                let (next, _) = self.issue_challenge(Ceremony::Authenticate, 0, now).await?;
                let reply =
                    PinRequiredResponse::new(reason, &next, best_attempts.remaining(now), false);
                return Ok((
                    serde_json::to_value(AuthenticateReply::PinRequired(reply))?,
                    None,
                ));
            }
            (Some(pin), reason) => {
                let keys = self.keys()?;
                let peppered = crypto::peppered_pin(&keys.pepper, pin);
                let mut winner = None;
                let mut tried = Vec::new();
                for fid in &candidates {
                    let attempts = self.pin_attempts(fid).await?;
                    if attempts.is_locked(now) {
                        continue;
                    }
                    let Some(rec) = self.get_json::<FaceRecord>(&format!("user:{fid}")).await?
                    else {
                        continue;
                    };
                    if verify_pin(&peppered, &rec.pin_hash)? {
                        winner = Some((fid.clone(), attempts));
                        break;
                    }
                    tried.push((fid.clone(), attempts));
                }
                match winner {
                    Some((fid, attempts)) => {
                        if attempts != PinAttempts::default() {
                            self.storage().delete(&format!("pinatt:{fid}")).await?;
                        }
                        fid
                    }
                    None => {
                        // Record the failure on every candidate the PIN was tried against.
                        let mut best_verdict = PinVerdict::LockedOut { until_ms: now };
                        for (fid, mut attempts) in tried {
                            let verdict = attempts.record_failure(now);
                            self.put_json(&format!("pinatt:{fid}"), &attempts).await?;
                            if fid == best_id {
                                best_verdict = verdict;
                            }
                        }
                        match best_verdict {
                            PinVerdict::Retry { remaining } => {
                                let (next, _) =
                                    self.issue_challenge(Ceremony::Authenticate, 0, now).await?;
                                let reason = reason.unwrap_or(fio_core::PinReason::AlwaysAsk);
                                let reply =
                                    PinRequiredResponse::new(reason, &next, remaining, true);
                                return Ok((
                                    serde_json::to_value(AuthenticateReply::PinRequired(reply))?,
                                    None,
                                ));
                            }
                            PinVerdict::LockedOut { .. } => {
                                self.count_failure().await?;
                                return Err(FioError::WrongPin.into());
                            }
                        }
                    }
                }
            }
        };

        let record: FaceRecord = self
            .get_json(&format!("user:{matched}"))
            .await?
            .ok_or_else(|| EdgeError::Internal(format!("record missing for {matched}")))?;
        let stats = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.authentications += 1;
            Ok(s)
        })?;
        self.put_json("stats", &stats).await?;
        let webhook = {
            let mut inner = self.inner.borrow_mut();
            let d = inner
                .data
                .as_mut()
                .ok_or(EdgeError::NotFound("application"))?;
            d.stats = stats;
            webhook_job(
                d,
                Event::Auth,
                &matched,
                &call.client_ip,
                now,
                record.details,
            )
        };
        let resp = AuthenticateReply::Authenticated(AuthenticateResponse {
            payload: record.payload,
            facial_id: matched,
        });
        Ok((serde_json::to_value(resp)?, webhook))
    }

    async fn pin_attempts(&self, fid: &str) -> EdgeResult<PinAttempts> {
        Ok(self
            .get_json::<PinAttempts>(&format!("pinatt:{fid}"))
            .await?
            .unwrap_or_default())
    }

    async fn count_failure(&self) -> EdgeResult<()> {
        let stats = self.with_app(|d| {
            let mut s = d.stats.clone();
            s.failed_authentications += 1;
            Ok(s)
        })?;
        self.put_json("stats", &stats).await?;
        if let Some(d) = self.inner.borrow_mut().data.as_mut() {
            d.stats = stats;
        }
        Ok(())
    }

    /// True when another facial ID (not `except`) holds this PIN tag.
    async fn pin_tag_in_use(&self, tag: &str, except: Option<&str>) -> EdgeResult<bool> {
        let page = self.list_page(&format!("pintag:{tag}:"), None, 2).await?;
        Ok(page
            .iter()
            .any(|(k, _)| except.is_none_or(|fid| !k.ends_with(fid))))
    }

    /// Writes the record to KV; a failure is logged, not fatal (the DO holds the truth).
    async fn replicate(&self, record: &FaceRecord) {
        match self.env.kv(KV_BINDING) {
            Ok(kv) => {
                if let Err(e) = kv_records::put(&kv, record).await {
                    worker::console_error!("KV replication of {}: {e}", record.facial_id);
                }
            }
            Err(e) => worker::console_error!("KV binding {KV_BINDING}: {e}"),
        }
    }

    // ---- admin -----------------------------------------------------------------------------

    async fn create_app(
        &self,
        public_id: &str,
        name: &str,
        options: AppOptions,
        api_key_hash: Option<String>,
        now: u64,
    ) -> EdgeResult<AppRecord> {
        let api_key_hash = match api_key_hash {
            Some(h) => h,
            // Demo apps get an unusable random key hash until an operator sets one.
            None => crypto::hex(&crypto::random_array::<32>()?),
        };
        let record = AppRecord {
            public_id: public_id.to_owned(),
            name: name.to_owned(),
            status: AppStatus::Active,
            options,
            api_key_hash,
            webhook_secret: webhook::new_secret()?,
            created_at_ms: now,
        };
        self.put_json("config", &record).await?;
        let mut inner = self.inner.borrow_mut();
        if inner.data.is_none() {
            inner.data = Some(AppData::new(record.clone()));
        }
        Ok(record)
    }

    async fn admin_create(&self, call: &DoCall, now: u64) -> Handled {
        if self.inner.borrow().data.is_some() {
            return Ok((json!({"exists": true}), None));
        }
        let create: AppCreate =
            serde_json::from_value(call.args.get("create").cloned().unwrap_or_default())
                .map_err(|e| EdgeError::bad_request(format!("invalid body: {e}")))?;
        crate::app_config::validate_name(&create.name)?;
        let options = AppOptions::from_json(create.options.as_ref())?;
        let hash = str_arg(&call.args, "apiKeyHash")?
            .ok_or_else(|| EdgeError::Internal("apiKeyHash missing".into()))?;
        let rec = self
            .create_app(
                &call.public_id,
                create.name.trim(),
                options,
                Some(hash),
                now,
            )
            .await?;
        Ok((
            json!({
                "publicId": rec.public_id,
                "name": rec.name,
                "status": rec.status,
                "options": rec.options,
                "webhookSecret": rec.webhook_secret,
            }),
            None,
        ))
    }

    async fn admin_patch(&self, call: &DoCall) -> Handled {
        let patch: AppPatch = serde_json::from_value(call.args.clone())
            .map_err(|e| EdgeError::bad_request(format!("invalid body: {e}")))?;
        let mut config = self.with_app(|d| Ok(d.config.clone()))?;
        if let Some(name) = &patch.name {
            crate::app_config::validate_name(name)?;
            config.name = name.trim().to_owned();
        }
        if let Some(status) = patch.status {
            config.status = status;
        }
        config.options = config.options.patched(patch.options.as_ref())?;
        self.put_json("config", &config).await?;
        let view = config.public_view();
        if let Some(d) = self.inner.borrow_mut().data.as_mut() {
            d.config = config;
        }
        Ok((view, None))
    }

    // ---- REST API --------------------------------------------------------------------------

    async fn load_record(&self, fid: &str) -> EdgeResult<FaceRecord> {
        if !self.with_app(|d| Ok(d.users.contains_key(fid)))? {
            return Err(EdgeError::NotFound("facial ID"));
        }
        self.get_json(&format!("user:{fid}"))
            .await?
            .ok_or(EdgeError::NotFound("facial ID"))
    }

    async fn delete_facial_id(&self, call: &DoCall, now: u64) -> Handled {
        let fid = facial_id_arg(&call.args, "fid")?;
        let record = self.load_record(&fid).await?;
        let (shard, stats) = self.with_app(|d| {
            let shard = d.users.get(&fid).map(|u| u.shard).unwrap_or_default();
            let mut s = d.stats.clone();
            s.deletions += 1;
            Ok((shard, s))
        })?;
        let shard_key = format!("shard:{shard:06}");
        let mut entries: Vec<ShardEntry> = self.get_json(&shard_key).await?.unwrap_or_default();
        entries.retain(|e| e.f != fid);
        let shard_len = entries.len();
        if entries.is_empty() {
            self.storage().delete(&shard_key).await?;
        } else {
            self.put_json(&shard_key, &entries).await?;
        }
        self.storage()
            .delete_multiple(vec![
                format!("user:{fid}"),
                format!("pintag:{}:{fid}", record.pin_tag),
                format!("pinatt:{fid}"),
            ])
            .await?;
        self.put_json("stats", &stats).await?;
        let webhook = {
            let mut inner = self.inner.borrow_mut();
            let d = inner
                .data
                .as_mut()
                .ok_or(EdgeError::NotFound("application"))?;
            d.index.remove_id(&fid);
            d.users.remove(&fid);
            if shard_len == 0 {
                d.shard_sizes.remove(&shard);
            } else {
                d.shard_sizes.insert(shard, shard_len);
            }
            d.stats = stats;
            webhook_job(
                d,
                Event::Deletion,
                &fid,
                &call.client_ip,
                now,
                record.details,
            )
        };
        if let Ok(kv) = self.env.kv(KV_BINDING) {
            if let Err(e) = kv_records::delete(&kv, &call.public_id, &fid).await {
                worker::console_error!("KV delete of {fid}: {e}");
            }
        }
        Ok((
            json!({"status": 200, "facialId": fid, "deleted": true}),
            webhook,
        ))
    }

    async fn set_payload(&self, call: &DoCall, now: u64) -> Handled {
        let fid = facial_id_arg(&call.args, "fid")?;
        let payload = match (call.args.get("payload"), call.args.get("payloadText")) {
            (Some(v), _) => v.clone(),
            // Query-string and form parameters carry JSON text.
            (None, Some(Value::String(text))) => serde_json::from_str(text)
                .map_err(|_| EdgeError::bad_request("`payload` must be JSON"))?,
            _ => return Err(EdgeError::bad_request("missing `payload`")),
        };
        validate_payload(&payload)?;
        let mut record = self.load_record(&fid).await?;
        record.payload = payload;
        record.updated_at_ms = now;
        self.put_json(&format!("user:{fid}"), &record).await?;
        self.replicate(&record).await;
        Ok((json!({"status": 200, "facialId": fid}), None))
    }

    async fn set_pin(&self, call: &DoCall, now: u64) -> Handled {
        let fid = facial_id_arg(&call.args, "fid")?;
        let pin =
            str_arg(&call.args, "pin")?.ok_or_else(|| EdgeError::bad_request("missing `pin`"))?;
        let opts = self.options()?;
        validate_pin(&pin, &opts.pin_policy())?;
        let mut record = self.load_record(&fid).await?;
        let keys = self.keys()?;
        let tag = pin_uniqueness_tag(&keys.pin_tag, &call.public_id, &pin);
        if opts.enforce_pin_uniqueness && self.pin_tag_in_use(&tag, Some(&fid)).await? {
            return Err(FioError::PinNotUnique.into());
        }
        let salt: [u8; PIN_SALT_LEN] = crypto::random_array()?;
        let old_tag_key = format!("pintag:{}:{fid}", record.pin_tag);
        record.pin_hash = hash_pin(&crypto::peppered_pin(&keys.pepper, &pin), &salt);
        record.pin_tag = tag.clone();
        record.updated_at_ms = now;
        self.storage()
            .delete_multiple(vec![old_tag_key, format!("pinatt:{fid}")])
            .await?;
        self.put_many(&[
            (format!("user:{fid}"), serde_json::to_string(&record)?),
            (format!("pintag:{tag}:{fid}"), String::new()),
        ])
        .await?;
        self.replicate(&record).await;
        Ok((json!({"status": 200, "facialId": fid}), None))
    }

    fn list_facial_ids(&self, call: &DoCall) -> Handled {
        let offset = usize_arg(&call.args, "offset")?.unwrap_or(0);
        let limit = usize_arg(&call.args, "limit")?.unwrap_or(DEFAULT_LIST_LIMIT);
        if limit > MAX_LIST_LIMIT {
            return Err(EdgeError::bad_request(format!(
                "`limit` is at most {MAX_LIST_LIMIT}"
            )));
        }
        self.with_app(|d| {
            let mut all: Vec<(&String, &UserMeta)> = d.users.iter().collect();
            all.sort_by(|a, b| (a.1.created_at_ms, a.0).cmp(&(b.1.created_at_ms, b.0)));
            let page: Vec<Value> = all
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(fid, m)| {
                    json!({
                        "facialId": fid,
                        "timestamp": format_iso8601_ms(m.created_at_ms),
                        "details": {"gender": m.details.gender, "age": m.details.age},
                    })
                })
                .collect();
            Ok((
                json!({
                    "status": 200,
                    "total": all.len(),
                    "offset": offset,
                    "limit": limit,
                    "facialIds": page,
                }),
                None,
            ))
        })
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
    })
}
