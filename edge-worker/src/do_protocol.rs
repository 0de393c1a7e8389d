//! The internal JSON protocol between the front worker and an app's Durable Object.
//!
//! The front worker routes, caps body sizes, extracts request context and parses each request
//! into a typed [`DoCall`]; the Durable Object runs the admission checks in the contract's order
//! (app, origin, country, quotas) and only then looks at the arguments, so a malformed body for
//! an unknown app still reads `UNAUTHORIZED`, as documented. Both sides are this crate: the JSON
//! they exchange is internal and may change with it.

use fio_core::{AuthenticateRequest, Ceremony, EnrollRequest, StartRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app_config::{AppCreate, AppPatch};
use crate::error::{EdgeError, EdgeResult, ErrorReply};
use crate::reverify::EvidenceCall;
use crate::webhook::{Delivery, WebhookJob};

/// Durable Object namespace binding name.
pub const DO_BINDING: &str = "APP_INDEX";

/// Name of the Durable Object holding the list of apps (not a valid public ID, so no widget or
/// REST request can reach it).
pub const DIRECTORY: &str = "directory:apps";

/// One call to an app's Durable Object: the request context and what to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoRequest {
    /// Who asks, from where.
    pub ctx: CallContext,
    /// What to do, with its typed arguments.
    pub call: DoCall,
}

/// Request context extracted by the front worker.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallContext {
    /// Application public ID (also the Durable Object's name).
    pub public_id: String,
    /// Client IP for quotas and webhooks.
    pub client_ip: String,
    /// `Origin` header.
    pub origin: Option<String>,
    /// `Referer` header.
    pub referer: Option<String>,
    /// `CF-IPCountry` header.
    pub country: Option<String>,
    /// REST API key.
    pub api_key: Option<String>,
    /// True when `public_id` is the deployment's `DEMO_APP_ID` (auto-created).
    pub demo: bool,
    /// The edge's own origin (`https://host[:port]`), the `iss` of login tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl CallContext {
    /// The context of a call made by the edge itself (no client request behind it).
    pub fn internal(public_id: &str) -> Self {
        Self {
            public_id: public_id.to_owned(),
            ..Self::default()
        }
    }
}

/// What to do. On the wire: `{"op": "enroll", "args": {…}}` (no `args` for unit variants).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", content = "args", rename_all = "camelCase")]
pub enum DoCall {
    /// `POST /v1/{id}/session`.
    Start(Body<StartRequest>),
    /// `POST /v1/{id}/enroll`.
    Enroll(Ceremonial<EnrollRequest>),
    /// `POST /v1/{id}/authenticate`.
    Authenticate(Ceremonial<AuthenticateRequest>),
    /// Before the front worker measures an enroll/authenticate request's evidence crops:
    /// reserves the challenge's one measurement.
    ClaimEvidence(ClaimEvidenceArgs),
    /// `GET /v1/{id}/jwks.json`: the app's token-verification keys (public, no admission).
    Jwks,
    /// `/deletefacialid`.
    DeleteFacialId(FacialIdArgs),
    /// `/setfacialidpayload`.
    SetPayload(SetPayloadArgs),
    /// `/setfacialidpincode`.
    SetPin(SetPinArgs),
    /// `/appstats`.
    AppStats,
    /// `/listfacialids`.
    ListFacialIds(ListArgs),
    /// `/checkfacialid`.
    CheckFacialId(FacialIdArgs),
    /// `/verifytoken`: checks and redeems a login token.
    VerifyToken(VerifyTokenArgs),
    /// `/faceverify`, `/agecheck`: admits the API key (quota counted) and returns the app's
    /// `matchThreshold`; the front worker then measures the images.
    ImageCheck,
    /// `POST /admin/apps`.
    AdminCreate(AdminCreateArgs),
    /// `GET /admin/apps/{id}`.
    AdminGet,
    /// `PATCH /admin/apps/{id}`.
    AdminPatch(AppPatch),
    /// `DELETE /admin/apps/{id}`: the app and all its data.
    AdminDelete,
    /// `POST /admin/apps/{id}/api-key/rotate`.
    AdminRotateApiKey(RotateApiKeyArgs),
    /// `POST /admin/apps/{id}/webhook-secret/rotate`.
    AdminRotateWebhookSecret(RotateWebhookSecretArgs),
    /// `POST /admin/apps/{id}/signing-key/rotate`.
    AdminRotateSigningKey,
    /// `GET /admin/apps/{id}/stats`.
    AdminStats,
    /// `GET /admin/apps/{id}/facialids`.
    AdminListFacialIds(ListArgs),
    /// `DELETE /admin/apps/{id}/facialids/{fid}`.
    AdminDeleteFacialId(FacialIdArgs),
    /// `POST /admin/apps/{id}/webhook/test`: a `test` event for the front worker to deliver.
    AdminWebhookTest,
    /// `GET /admin/apps/{id}/webhook/deliveries`.
    AdminDeliveries,
    /// The front worker reports a webhook's outcome.
    RecordDelivery(Delivery),
    /// To the directory: `GET /admin/apps`, the list of apps.
    AdminList,
    /// To the directory: an app was created or renamed.
    DirRegister(DirEntry),
    /// To the directory: an app was deleted.
    DirRemove(DirRemoveArgs),
    /// To a gallery shard object (`{publicId}#{k}`), from its app's object only.
    Gallery(GalleryCall),
    /// `POST /admin/apps/{id}/gallery/{seed,restart,fault}`: bench and test controls, answered
    /// only when the deployment sets `GALLERY_TEST_CONTROLS = "1"`.
    AdminGalleryControl(GalleryControl),
}

/// What an app's object asks one of its gallery shards.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", content = "args", rename_all = "camelCase")]
pub enum GalleryCall {
    /// The shard's best two for a base64 probe template.
    Search(ProbeArgs),
    /// A face at or above `threshold`, if any.
    FindDuplicate(DuplicateArgs),
    /// Adds a face (its row, template sealed).
    Add(crate::app_index::GalleryRow),
    /// Removes a face; removing an absent one succeeds.
    Remove(FidArg),
    /// The shard's first `upto` faces in listing order, and its total.
    List(UptoArgs),
    /// Forgets every face (the app is being deleted).
    DeleteAll,
    /// A bench/test control ([`GalleryControl`]) applied to this shard.
    Control(GalleryControl),
}

/// A probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeArgs {
    /// Base64 template.
    pub probe: String,
}

/// A duplicate check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateArgs {
    /// Base64 template.
    pub template: String,
    /// The app's match threshold.
    pub threshold: f32,
}

/// One facial ID.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FidArg {
    /// Facial ID.
    pub fid: String,
}

/// A listing bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UptoArgs {
    /// How many to return at most.
    pub upto: usize,
}

/// Bench and test controls of a gallery (refused unless `GALLERY_TEST_CONTROLS = "1"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "camelCase")]
pub enum GalleryControl {
    /// Adds `count` synthetic faces (random unit templates, sealed and stored like real ones,
    /// with no user record), spread over the shards: large galleries for the bench.
    #[serde(rename_all = "camelCase")]
    Seed {
        /// Faces in all.
        count: u32,
        /// PRNG seed.
        seed: u64,
    },
    /// Drops shard `shard`'s memory as a restart does; the next call reloads it from storage
    /// and reports how long that took.
    Restart {
        /// Shard number.
        shard: u32,
    },
    /// Makes shard `shard` fail (`error`), stall 30 s (`hang`) or work again (`none`).
    Fault {
        /// Shard number.
        shard: u32,
        /// `none`, `error` or `hang`.
        mode: FaultMode,
    },
    /// Per shard: faces held and the last reload's duration.
    Inspect,
}

/// A fault a test puts on a shard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultMode {
    /// Healthy.
    #[default]
    None,
    /// Every call fails.
    Error,
    /// Every call stalls for 30 s before answering.
    Hang,
}

impl DoCall {
    /// Widget API operations (origin, country and quota rules apply).
    pub fn is_widget(&self) -> bool {
        matches!(
            self,
            Self::Start(_) | Self::Enroll(_) | Self::Authenticate(_)
        )
    }

    /// REST API operations (API key and REST quota apply).
    pub fn is_rest(&self) -> bool {
        matches!(
            self,
            Self::DeleteFacialId(_)
                | Self::SetPayload(_)
                | Self::SetPin(_)
                | Self::AppStats
                | Self::ListFacialIds(_)
                | Self::VerifyToken(_)
                | Self::CheckFacialId(_)
                | Self::ImageCheck
        )
    }
}

/// A widget body as the front worker parsed it. A refusal travels as the reply it becomes: the
/// Durable Object answers it only after admission (app, origin, country, quotas), so a
/// malformed body for an unknown app still reads `UNAUTHORIZED`, as documented.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned")
)]
pub enum Body<T> {
    /// The request, well-formed JSON of the right shape. It travels as JSON text so that the
    /// Durable Object parses it with the nesting budget the front worker had (a payload as deep
    /// as a client body may be must not fail inside the envelope).
    Parsed(#[serde(with = "json_text")] Box<T>),
    /// Not UTF-8, too large or not the request's shape (HTTP 400 or 413).
    Refused(ErrorReply),
}

impl<T: DeserializeOwned> Body<T> {
    /// Parses a widget body (`None`: it was not UTF-8) exactly as the contract says.
    pub fn parse(body: Option<&str>) -> Self {
        let parsed = body
            .ok_or_else(|| EdgeError::bad_request("body is not UTF-8"))
            .and_then(|b| {
                fio_core::protocol::parse_request::<T>(b.as_bytes()).map_err(EdgeError::from)
            });
        match parsed {
            Ok(t) => Self::Parsed(Box::new(t)),
            Err(e) => Self::Refused(e.reply()),
        }
    }

    /// The request, or the refusal as an error.
    pub fn into_request(self) -> EdgeResult<T> {
        match self {
            Self::Parsed(t) => Ok(*t),
            Self::Refused(reply) => Err(EdgeError::Relayed(reply)),
        }
    }
}

/// Serializes a value as a JSON string holding its JSON text.
mod json_text {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}

/// An enroll or authenticate request and what the front worker made of its evidence crops.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned")
)]
pub struct Ceremonial<T> {
    /// The body without its `liveness.evidence`.
    pub request: Body<T>,
    /// The body's evidence crops, opened and measured by the front worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceCall>,
}

/// A REST parameter as sent: text (a number or boolean counts as its text, as in a query
/// string), or a JSON value that is no text (refused with 400 once the call is admitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Param {
    /// The parameter's text.
    Text(String),
    /// An array or object.
    NotText,
}

impl Param {
    /// The parameter `value` (absent or `null`: `None`).
    pub fn of(value: Option<&Value>) -> Option<Self> {
        match value? {
            Value::Null => None,
            Value::String(s) => Some(Self::Text(s.clone())),
            Value::Number(n) => Some(Self::Text(n.to_string())),
            Value::Bool(b) => Some(Self::Text(b.to_string())),
            Value::Array(_) | Value::Object(_) => Some(Self::NotText),
        }
    }

    /// The text of parameter `name`, if given; 400 when it is no text.
    pub fn text(p: &Option<Self>, name: &str) -> EdgeResult<Option<String>> {
        match p {
            None => Ok(None),
            Some(Self::Text(s)) => Ok(Some(s.clone())),
            Some(Self::NotText) => {
                Err(EdgeError::bad_request(format!("`{name}` must be a string")))
            }
        }
    }
}

/// Arguments naming one facial ID (`fid`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FacialIdArgs {
    /// The facial ID.
    pub fid: Option<Param>,
}

/// `/setfacialidpayload` arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SetPayloadArgs {
    /// The facial ID.
    pub fid: Option<Param>,
    /// The new payload.
    pub payload: Option<PayloadArg>,
}

/// A payload as it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PayloadArg {
    /// A JSON body's `payload`: already a value (`null` included).
    Json(Value),
    /// A query-string or form `payload`: JSON text.
    Text(String),
}

/// `/setfacialidpincode` arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SetPinArgs {
    /// The facial ID.
    pub fid: Option<Param>,
    /// The new PIN.
    pub pin: Option<Param>,
}

/// `/listfacialids` paging.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ListArgs {
    /// Facial IDs to skip.
    pub offset: Option<Param>,
    /// Most facial IDs to return.
    pub limit: Option<Param>,
}

/// `/verifytoken` arguments.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VerifyTokenArgs {
    /// The login token.
    pub token: Option<Param>,
}

/// The challenge whose evidence the front worker is about to measure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimEvidenceArgs {
    /// As the request quoted it (checked by the Durable Object).
    pub challenge_id: String,
    /// The request's ceremony.
    pub ceremony: Ceremony,
}

/// `POST /admin/apps`: the operator's body and the hash of the API key the front worker made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminCreateArgs {
    /// The operator's body.
    pub create: AppCreate,
    /// SHA-256 (hex) of the new API key.
    pub api_key_hash: String,
}

/// `POST /admin/apps/{id}/api-key/rotate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateApiKeyArgs {
    /// SHA-256 (hex) of the new API key.
    pub api_key_hash: String,
    /// How long the old key keeps working.
    pub grace_ms: u64,
}

/// `POST /admin/apps/{id}/webhook-secret/rotate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotateWebhookSecretArgs {
    /// How long events are also signed with the old secret.
    pub grace_ms: u64,
}

/// The directory's entry for one app (stored as is, listed by `GET /admin/apps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirEntry {
    /// The app's public ID.
    pub public_id: String,
    /// Its display name.
    pub name: String,
    /// When it was created (Unix ms).
    pub created_at_ms: u64,
}

/// To the directory: the app that was deleted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirRemoveArgs {
    /// The app's public ID.
    pub public_id: String,
}

/// A login token the Durable Object decided and the front worker signs (its `token` field):
/// signing leaves the app's object, whose single thread bounds the app, and uses WebCrypto.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenToSign {
    /// Version of the app's signing key.
    pub version: u32,
    /// The JWS signing input (`header.payload`, claims final).
    pub input: String,
}

/// What a Durable Object handler answers: the body, an event to deliver, a token to sign.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Success body.
    pub body: Value,
    /// Event to deliver after responding.
    pub webhook: Option<WebhookJob>,
    /// Token the front worker signs into `body.token`.
    pub sign: Option<TokenToSign>,
}

impl From<(Value, Option<WebhookJob>)> for Answer {
    fn from((body, webhook): (Value, Option<WebhookJob>)) -> Self {
        Self {
            body,
            webhook,
            sign: None,
        }
    }
}

/// The Durable Object's answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoReply {
    /// Success body.
    pub ok: Option<Value>,
    /// Failure.
    pub err: Option<ErrorReply>,
    /// Event to deliver after responding.
    pub webhook: Option<WebhookJob>,
    /// Token to sign into `ok.token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<TokenToSign>,
}

impl DoReply {
    /// Wraps a handler result.
    pub fn from_result(r: EdgeResult<Answer>) -> Self {
        match r {
            Ok(a) => Self {
                ok: Some(a.body),
                err: None,
                webhook: a.webhook,
                sign: a.sign,
            },
            Err(e) => {
                if let EdgeError::Internal(m) | EdgeError::ShardUnavailable(m) = &e {
                    worker::console_error!("app index: {m}");
                }
                Self {
                    ok: None,
                    err: Some(e.reply()),
                    webhook: None,
                    sign: None,
                }
            }
        }
    }
}

/// Sends a call to the app's Durable Object.
pub async fn call(env: &worker::Env, call: &DoRequest) -> EdgeResult<DoReply> {
    call_object(env, &call.ctx.public_id, call).await
}

/// Sends a call to the Durable Object named `name` (an app's, or one of its gallery shards).
pub async fn call_object(env: &worker::Env, name: &str, call: &DoRequest) -> EdgeResult<DoReply> {
    let ns = env.durable_object(DO_BINDING)?;
    let stub = ns.id_from_name(name)?.get_stub()?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(serde_json::to_string(call)?.into()));
    let req = worker::Request::new_with_init("https://app-index.internal/call", &init)?;
    let resp = stub.fetch_with_request(req).await?;
    // One `Response.text()` instead of worker's `Response::text`, which pulls a stream chunk
    // by chunk: that reader's releaseLock alone took ≈ 9 % of the worker's CPU per
    // authentication in the V8 profile (`bash scripts/bench-edge.sh --self-host --profile`).
    let resp: worker::web_sys::Response = resp.into();
    let unreadable = |_| EdgeError::Internal("do reply: unreadable body".into());
    let text = worker::wasm_bindgen_futures::JsFuture::from(resp.text().map_err(unreadable)?)
        .await
        .map_err(unreadable)?
        .as_string()
        .ok_or_else(|| EdgeError::Internal("do reply: not text".into()))?;
    serde_json::from_str(&text).map_err(|e| EdgeError::Internal(format!("do reply: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reverify::MeasuredCrop;
    use fio_core::liveness::FrameCues;
    use serde_json::json;

    fn enroll_body(payload: Value) -> String {
        json!({
            "challengeId": "ab".repeat(16),
            "templates": ["AAAA"],
            "liveness": {"score": 0.93, "passed": true, "actions": ["blink"]},
            "details": {"age": 31.5, "gender": "female"},
            "payload": payload,
            "pin": "7391",
        })
        .to_string()
    }

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!(1), |v, _| json!([v]))
    }

    /// Every variant, with arguments where it takes some.
    fn every_call() -> Vec<(&'static str, DoCall)> {
        let fid = || Some(Param::Text("f".repeat(20)));
        let measured = EvidenceCall::Measured {
            crops: vec![MeasuredCrop {
                cues: FrameCues::default(),
                embedding: Some(vec![0.25, -0.5]),
            }],
        };
        vec![
            (
                "start",
                DoCall::Start(Body::parse(Some(r#"{"ceremony":"enroll","nonce":"n-1"}"#))),
            ),
            (
                "enroll",
                DoCall::Enroll(Ceremonial {
                    request: Body::parse(Some(&enroll_body(json!({"plan": "pro"})))),
                    evidence: Some(measured),
                }),
            ),
            (
                "authenticate",
                DoCall::Authenticate(Ceremonial {
                    request: Body::parse(Some("{not json")),
                    evidence: Some(EvidenceCall::Malformed { reason: "r".into() }),
                }),
            ),
            (
                "claimEvidence",
                DoCall::ClaimEvidence(ClaimEvidenceArgs {
                    challenge_id: "cd".repeat(16),
                    ceremony: Ceremony::Authenticate,
                }),
            ),
            ("jwks", DoCall::Jwks),
            (
                "deleteFacialId",
                DoCall::DeleteFacialId(FacialIdArgs { fid: fid() }),
            ),
            (
                "setPayload",
                DoCall::SetPayload(SetPayloadArgs {
                    fid: fid(),
                    payload: Some(PayloadArg::Json(Value::Null)),
                }),
            ),
            (
                "setPin",
                DoCall::SetPin(SetPinArgs {
                    fid: Some(Param::NotText),
                    pin: Some(Param::Text("1234".into())),
                }),
            ),
            ("appStats", DoCall::AppStats),
            (
                "listFacialIds",
                DoCall::ListFacialIds(ListArgs {
                    offset: Some(Param::Text("2".into())),
                    limit: None,
                }),
            ),
            (
                "checkFacialId",
                DoCall::CheckFacialId(FacialIdArgs { fid: None }),
            ),
            (
                "verifyToken",
                DoCall::VerifyToken(VerifyTokenArgs {
                    token: Some(Param::Text("a.b.c".into())),
                }),
            ),
            ("imageCheck", DoCall::ImageCheck),
            (
                "adminCreate",
                DoCall::AdminCreate(AdminCreateArgs {
                    create: serde_json::from_value(
                        json!({"name": "Shop", "options": {"minAge": 18}}),
                    )
                    .unwrap(),
                    api_key_hash: "00ff".into(),
                }),
            ),
            ("adminGet", DoCall::AdminGet),
            (
                "adminPatch",
                DoCall::AdminPatch(
                    serde_json::from_value(json!({"status": "paused", "name": "N"})).unwrap(),
                ),
            ),
            ("adminDelete", DoCall::AdminDelete),
            (
                "adminRotateApiKey",
                DoCall::AdminRotateApiKey(RotateApiKeyArgs {
                    api_key_hash: "aa".into(),
                    grace_ms: 600_000,
                }),
            ),
            (
                "adminRotateWebhookSecret",
                DoCall::AdminRotateWebhookSecret(RotateWebhookSecretArgs { grace_ms: 0 }),
            ),
            ("adminRotateSigningKey", DoCall::AdminRotateSigningKey),
            ("adminStats", DoCall::AdminStats),
            (
                "adminListFacialIds",
                DoCall::AdminListFacialIds(ListArgs::default()),
            ),
            (
                "adminDeleteFacialId",
                DoCall::AdminDeleteFacialId(FacialIdArgs { fid: fid() }),
            ),
            ("adminWebhookTest", DoCall::AdminWebhookTest),
            ("adminDeliveries", DoCall::AdminDeliveries),
            (
                "recordDelivery",
                DoCall::RecordDelivery(Delivery {
                    event: "enroll".into(),
                    at_ms: 5,
                    status: Some(204),
                    ok: true,
                    attempts: 1,
                    error: None,
                }),
            ),
            ("adminList", DoCall::AdminList),
            (
                "dirRegister",
                DoCall::DirRegister(DirEntry {
                    public_id: "fioa0001".into(),
                    name: "Shop".into(),
                    created_at_ms: 7,
                }),
            ),
            (
                "dirRemove",
                DoCall::DirRemove(DirRemoveArgs {
                    public_id: "fioa0001".into(),
                }),
            ),
            (
                "gallery",
                DoCall::Gallery(GalleryCall::FindDuplicate(DuplicateArgs {
                    template: "AAAA".into(),
                    threshold: 0.55,
                })),
            ),
            (
                "adminGalleryControl",
                DoCall::AdminGalleryControl(GalleryControl::Fault {
                    shard: 3,
                    mode: FaultMode::Hang,
                }),
            ),
        ]
    }

    #[test]
    fn gallery_calls_round_trip() {
        let calls = [
            GalleryCall::Search(ProbeArgs { probe: "p".into() }),
            GalleryCall::Remove(FidArg { fid: "f".into() }),
            GalleryCall::List(UptoArgs { upto: 3 }),
            GalleryCall::DeleteAll,
            GalleryCall::Control(GalleryControl::Seed { count: 9, seed: 1 }),
            GalleryCall::Control(GalleryControl::Restart { shard: 0 }),
            GalleryCall::Control(GalleryControl::Inspect),
        ];
        for call in calls {
            let text = serde_json::to_string(&call).unwrap();
            let back: GalleryCall = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
        let control: GalleryControl =
            serde_json::from_value(json!({"control": "fault", "shard": 1, "mode": "error"}))
                .unwrap();
        assert!(matches!(
            control,
            GalleryControl::Fault {
                shard: 1,
                mode: FaultMode::Error
            }
        ));
    }

    #[test]
    fn every_call_round_trips() {
        let calls = every_call();
        assert_eq!(calls.len(), 31, "one case per variant");
        for (op, call) in calls {
            let request = DoRequest {
                ctx: CallContext {
                    client_ip: "203.0.113.9".into(),
                    origin: Some("https://shop.example".into()),
                    api_key: Some("fioa0001.secret".into()),
                    demo: true,
                    issuer: Some("https://edge.example".into()),
                    ..CallContext::internal("fioa0001")
                },
                call,
            };
            let text = serde_json::to_string(&request).unwrap();
            let wire: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(wire["call"]["op"], op, "{text}");
            let back: DoRequest = serde_json::from_str(&text).unwrap();
            assert_eq!(
                std::mem::discriminant(&back.call),
                std::mem::discriminant(&request.call),
                "{op}"
            );
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                text,
                "{op} is lossless"
            );
            assert_eq!(back.ctx.public_id, "fioa0001");
            assert!(back.ctx.demo);
        }
    }

    #[test]
    fn parsed_bodies_arrive_intact() {
        let body = enroll_body(json!({"plan": "pro", "n": [1, 2.5, null]}));
        let call = DoCall::Enroll(Ceremonial {
            request: Body::parse(Some(&body)),
            evidence: None,
        });
        let text = serde_json::to_string(&call).unwrap();
        let DoCall::Enroll(back) = serde_json::from_str::<DoCall>(&text).unwrap() else {
            panic!("an enroll call")
        };
        let sent: EnrollRequest = serde_json::from_str(&body).unwrap();
        assert_eq!(back.request.into_request().unwrap(), sent);
        assert!(back.evidence.is_none());
    }

    #[test]
    fn refusals_travel_as_their_replies() {
        let refused = |body: Option<&str>| match Body::<StartRequest>::parse(body) {
            Body::Refused(r) => r,
            Body::Parsed(p) => panic!("parsed {p:?}"),
        };
        let r = refused(None);
        assert_eq!(
            (r.status, r.body.message.as_str()),
            (400, "bad request: body is not UTF-8")
        );
        assert_eq!(refused(Some("[1]")).status, 400);
        assert_eq!(
            refused(Some(r#"{"ceremony":"enroll","extra":1}"#)).status,
            400
        );
        let big = format!(
            r#"{{"ceremony":"enroll","nonce":"{}"}}"#,
            "n".repeat(40_000)
        );
        assert_eq!(refused(Some(&big)).status, 413);
        // What the Durable Object raises is the reply the front worker would have rendered.
        let e = Body::<StartRequest>::parse(Some("{"))
            .into_request()
            .unwrap_err();
        assert_eq!(e.reply(), refused(Some("{")));
    }

    #[test]
    fn a_payload_as_deep_as_a_body_may_be_survives_the_envelope() {
        // serde_json refuses more than 128 levels; the body itself sits at the limit, and the
        // envelope must not add to it (the request travels as JSON text).
        let body = enroll_body(nested(120));
        let call = DoRequest {
            ctx: CallContext::internal("fioa0001"),
            call: DoCall::Enroll(Ceremonial {
                request: Body::parse(Some(&body)),
                evidence: None,
            }),
        };
        let text = serde_json::to_string(&call).unwrap();
        let back: DoRequest = serde_json::from_str(&text).unwrap();
        let DoCall::Enroll(args) = back.call else {
            panic!("an enroll call")
        };
        let req = args.request.into_request().unwrap();
        assert_eq!(fio_core::protocol::json_depth(&req.payload), 120);
        // …and is then refused by the payload rule, as before (HTTP 400).
        assert!(fio_core::protocol::validate_payload(&req.payload).is_err());
    }

    #[test]
    fn params_read_as_text() {
        assert_eq!(Param::of(None), None);
        assert_eq!(Param::of(Some(&Value::Null)), None);
        assert_eq!(Param::of(Some(&json!(7))), Some(Param::Text("7".into())));
        assert_eq!(
            Param::of(Some(&json!(false))),
            Some(Param::Text("false".into()))
        );
        assert_eq!(Param::of(Some(&json!([1]))), Some(Param::NotText));
        assert_eq!(
            Param::text(&Some(Param::Text("x".into())), "fid").unwrap(),
            Some("x".into())
        );
        let e = Param::text(&Some(Param::NotText), "fid")
            .unwrap_err()
            .reply();
        assert_eq!(
            (e.status, e.body.message.as_str()),
            (400, "bad request: `fid` must be a string")
        );
    }

    #[test]
    fn widget_and_rest_calls() {
        let widget: Vec<_> = every_call()
            .into_iter()
            .filter(|(_, c)| c.is_widget())
            .map(|(op, _)| op)
            .collect();
        assert_eq!(widget, ["start", "enroll", "authenticate"]);
        let rest: Vec<_> = every_call()
            .into_iter()
            .filter(|(_, c)| c.is_rest())
            .map(|(op, _)| op)
            .collect();
        assert_eq!(
            rest,
            [
                "deleteFacialId",
                "setPayload",
                "setPin",
                "appStats",
                "listFacialIds",
                "checkFacialId",
                "verifyToken",
                "imageCheck"
            ]
        );
    }
}
