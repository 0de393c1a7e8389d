//! The internal JSON protocol between the front worker and an app's Durable Object.
//!
//! The front worker only routes, caps body sizes and extracts request context; the Durable
//! Object runs the admission checks in the contract's order (app, origin, country, quotas)
//! and then parses and decides, so a malformed body for an unknown app still reads
//! `UNAUTHORIZED`, as documented.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{EdgeError, EdgeResult, ErrorReply};
use crate::webhook::WebhookJob;

/// Durable Object namespace binding name.
pub const DO_BINDING: &str = "APP_INDEX";

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    /// `POST /v1/{id}/session`.
    Start,
    /// `POST /v1/{id}/enroll`.
    Enroll,
    /// `POST /v1/{id}/authenticate`.
    Authenticate,
    /// `POST /admin/apps`.
    AdminCreate,
    /// `GET /admin/apps/{id}`.
    AdminGet,
    /// `PATCH /admin/apps/{id}`.
    AdminPatch,
    /// `/deletefacialid`.
    DeleteFacialId,
    /// `/setfacialidpayload`.
    SetPayload,
    /// `/setfacialidpincode`.
    SetPin,
    /// `/appstats`.
    AppStats,
    /// `/listfacialids`.
    ListFacialIds,
    /// `/checkfacialid`.
    CheckFacialId,
    /// `/faceverify`, `/agecheck`: admits the API key (quota counted) and returns the app's
    /// `matchThreshold`; the front worker then measures the images.
    ImageCheck,
    /// Before the front worker measures an enroll/authenticate request's evidence crops:
    /// reserves the challenge's one measurement (`args`: `challengeId`, `ceremony`).
    ClaimEvidence,
    /// `GET /v1/{id}/jwks.json`: the app's token-verification keys (public, no admission).
    Jwks,
    /// `/verifytoken`: checks and redeems a login token.
    VerifyToken,
    /// `POST /admin/apps/{id}/signing-key/rotate`.
    AdminRotateSigningKey,
    /// `GET /admin/apps`: the directory's list of apps.
    AdminList,
    /// `DELETE /admin/apps/{id}`: the app and all its data.
    AdminDelete,
    /// `POST /admin/apps/{id}/api-key/rotate` (`args`: `apiKeyHash`, `graceSeconds`).
    AdminRotateApiKey,
    /// `POST /admin/apps/{id}/webhook-secret/rotate` (`args`: `graceSeconds`).
    AdminRotateWebhookSecret,
    /// `GET /admin/apps/{id}/stats`.
    AdminStats,
    /// `GET /admin/apps/{id}/facialids`.
    AdminListFacialIds,
    /// `DELETE /admin/apps/{id}/facialids/{fid}`.
    AdminDeleteFacialId,
    /// `POST /admin/apps/{id}/webhook/test`: a `test` event for the front worker to deliver.
    AdminWebhookTest,
    /// `GET /admin/apps/{id}/webhook/deliveries`.
    AdminDeliveries,
    /// The front worker reports a webhook's outcome (`args`: a `webhook::Delivery`).
    RecordDelivery,
    /// To the directory: an app was created (`args`: `publicId`, `name`, `createdAtMs`).
    DirRegister,
    /// To the directory: an app was deleted (`args`: `publicId`).
    DirRemove,
}

/// Name of the Durable Object holding the list of apps (not a valid public ID, so no widget or
/// REST request can reach it).
pub const DIRECTORY: &str = "directory:apps";

impl Op {
    /// Widget API operations (origin, country and quota rules apply).
    pub fn is_widget(self) -> bool {
        matches!(self, Self::Start | Self::Enroll | Self::Authenticate)
    }

    /// REST API operations (API key and REST quota apply).
    pub fn is_rest(self) -> bool {
        matches!(
            self,
            Self::DeleteFacialId
                | Self::SetPayload
                | Self::SetPin
                | Self::AppStats
                | Self::ListFacialIds
                | Self::VerifyToken
                | Self::CheckFacialId
                | Self::ImageCheck
        )
    }
}

/// Request context extracted by the front worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoCall {
    /// Operation.
    pub op: Op,
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
    /// Raw widget body (`None` if it was not UTF-8).
    pub body: Option<String>,
    /// Arguments prepared by the front worker (admin and REST).
    pub args: Value,
    /// The widget body's evidence crops, opened and measured by the front worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<crate::evidence::EvidenceCall>,
    /// The edge's own origin (`https://host[:port]`), the `iss` of login tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl DoCall {
    /// A call made by the edge itself (no client request behind it).
    pub fn internal(op: Op, public_id: &str) -> Self {
        Self {
            op,
            public_id: public_id.to_owned(),
            client_ip: String::new(),
            origin: None,
            referer: None,
            country: None,
            api_key: None,
            demo: false,
            body: None,
            args: Value::Null,
            evidence: None,
            issuer: None,
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
}

impl DoReply {
    /// Wraps a handler result.
    pub fn from_result(r: EdgeResult<(Value, Option<WebhookJob>)>) -> Self {
        match r {
            Ok((v, webhook)) => Self {
                ok: Some(v),
                err: None,
                webhook,
            },
            Err(e) => {
                if let EdgeError::Internal(m) = &e {
                    worker::console_error!("app index: {m}");
                }
                Self {
                    ok: None,
                    err: Some(e.reply()),
                    webhook: None,
                }
            }
        }
    }
}

/// Sends a call to the app's Durable Object.
pub async fn call(env: &worker::Env, call: &DoCall) -> EdgeResult<DoReply> {
    let ns = env.durable_object(DO_BINDING)?;
    let stub = ns.id_from_name(&call.public_id)?.get_stub()?;
    let mut init = worker::RequestInit::new();
    init.with_method(worker::Method::Post)
        .with_body(Some(serde_json::to_string(call)?.into()));
    let req = worker::Request::new_with_init("https://app-index.internal/call", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let text = resp.text().await?;
    serde_json::from_str(&text).map_err(|e| EdgeError::Internal(format!("do reply: {e}")))
}
