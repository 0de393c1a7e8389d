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
    /// Before the front worker measures an enroll/authenticate request's evidence crops:
    /// reserves the challenge's one measurement (`args`: `challengeId`, `ceremony`).
    ClaimEvidence,
}

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
