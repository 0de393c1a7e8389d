//! FACEIO's REST API: `/deletefacialid`, `/setfacialidpayload`, `/setfacialidpincode`,
//! `/appstats`, `/listfacialids`, `/checkfacialid`; `GET` or `POST` with the parameters in the query string, a
//! form or a JSON body, authenticated by the app's secret API key (`key`).
//!
//! API keys have the form `{publicId}.{secret}`, so the key alone names the app's Durable
//! Object; the object then compares SHA-256 hashes of the whole key.

use fio_core::protocol::MAX_REQUEST_BYTES;
use fio_core::ErrorCode;
use serde_json::{Map, Value};
use worker::{Context, Env, Method, Request, Response};

use super::{context, dispatch, error_response, header, json_response, read_body};
use crate::app_config::is_valid_public_id;
use crate::do_protocol::{
    DoCall, FacialIdArgs, ListArgs, Param, PayloadArg, SetPayloadArgs, SetPinArgs, VerifyTokenArgs,
};
use crate::error::{EdgeError, EdgeResult};

/// The REST operations behind the path segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestOp {
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
    /// `/verifytoken`.
    VerifyToken,
    /// `/checkfacialid`.
    CheckFacialId,
}

/// The operation behind a REST path segment.
pub fn op_for(name: &str) -> Option<RestOp> {
    match name {
        "deletefacialid" => Some(RestOp::DeleteFacialId),
        "setfacialidpayload" => Some(RestOp::SetPayload),
        "setfacialidpincode" => Some(RestOp::SetPin),
        "appstats" => Some(RestOp::AppStats),
        "listfacialids" => Some(RestOp::ListFacialIds),
        "verifytoken" => Some(RestOp::VerifyToken),
        "checkfacialid" => Some(RestOp::CheckFacialId),
        _ => None,
    }
}

/// The typed call for a REST operation and its parameters (parameters it does not take are
/// ignored, as they always were). The parameters are judged by the Durable Object, after the
/// API key.
pub fn rest_call(op: RestOp, args: &Map<String, Value>) -> DoCall {
    let param = |name: &str| Param::of(args.get(name));
    match op {
        RestOp::DeleteFacialId => DoCall::DeleteFacialId(FacialIdArgs { fid: param("fid") }),
        RestOp::CheckFacialId => DoCall::CheckFacialId(FacialIdArgs { fid: param("fid") }),
        RestOp::SetPayload => DoCall::SetPayload(SetPayloadArgs {
            fid: param("fid"),
            payload: match (args.get("payload"), args.get("payloadText")) {
                (Some(v), _) => Some(PayloadArg::Json(v.clone())),
                (None, Some(Value::String(text))) => Some(PayloadArg::Text(text.clone())),
                _ => None,
            },
        }),
        RestOp::SetPin => DoCall::SetPin(SetPinArgs {
            fid: param("fid"),
            pin: param("pin"),
        }),
        RestOp::AppStats => DoCall::AppStats,
        RestOp::ListFacialIds => DoCall::ListFacialIds(list_args(args)),
        RestOp::VerifyToken => DoCall::VerifyToken(VerifyTokenArgs {
            token: param("token"),
        }),
    }
}

/// `offset` and `limit` (REST parameters or the operator API's query string).
pub fn list_args(args: &Map<String, Value>) -> ListArgs {
    ListArgs {
        offset: Param::of(args.get("offset")),
        limit: Param::of(args.get("limit")),
    }
}

/// The public ID inside an API key.
pub fn public_id_of_key(key: &str) -> Option<&str> {
    let (id, secret) = key.rsplit_once('.')?;
    (is_valid_public_id(id) && !secret.is_empty()).then_some(id)
}

fn form_pairs(bytes: &[u8], into: &mut Map<String, Value>) {
    for (k, v) in worker::url::form_urlencoded::parse(bytes) {
        if k != "payloadIsText" {
            into.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    mark_text_payload(into);
}

/// Query string, then body parameters (form or JSON; JSON values keep their types).
///
/// A `payload` that arrived as text (query string or form) is passed on as `payloadText`: it
/// must be JSON text, while a JSON body's `payload` is already a value.
async fn params(req: &mut Request) -> EdgeResult<Map<String, Value>> {
    let mut out = raw_params(req).await?;
    if let Some(Value::String(text)) = out.get("payload").cloned() {
        if out.get("payloadIsText").is_some() {
            out.remove("payload");
            out.insert("payloadText".into(), Value::String(text));
        }
    }
    out.remove("payloadIsText");
    Ok(out)
}

fn mark_text_payload(out: &mut Map<String, Value>) {
    if out.contains_key("payload") {
        out.insert("payloadIsText".into(), Value::Bool(true));
    }
}

async fn raw_params(req: &mut Request) -> EdgeResult<Map<String, Value>> {
    let mut out = Map::new();
    if let Ok(url) = req.url() {
        if let Some(q) = url.query() {
            form_pairs(q.as_bytes(), &mut out);
        }
    }
    if req.method() != Method::Post {
        return Ok(out);
    }
    let raw_type = header(req, "content-type").unwrap_or_default();
    let content_type = raw_type.to_ascii_lowercase();
    // Bounded before anything parses it, multipart included.
    let bytes = read_body(req, MAX_REQUEST_BYTES).await?;
    if content_type.starts_with("multipart/form-data") {
        let form = parse_multipart(&raw_type, &bytes)
            .await
            .map_err(|_| EdgeError::bad_request("unreadable form"))?;
        for name in ["key", "fid", "payload", "pin", "offset", "limit", "token"] {
            if let Some(worker::FormEntry::Field(v)) = form.get(name) {
                out.insert(name.to_owned(), Value::String(v));
            }
        }
        mark_text_payload(&mut out);
        return Ok(out);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(out);
    }
    let looks_json = content_type.contains("json")
        || (!content_type.contains("form")
            && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'));
    if looks_json {
        match fio_core::protocol::parse_request::<Value>(&bytes)? {
            Value::Object(m) => {
                // JSON values keep their types, including a JSON `payload`.
                if m.contains_key("payload") {
                    out.remove("payloadIsText");
                }
                out.extend(m.into_iter().filter(|(k, _)| k != "payloadIsText"));
            }
            _ => return Err(EdgeError::bad_request("JSON body must be an object")),
        }
    } else {
        form_pairs(&bytes, &mut out);
    }
    Ok(out)
}

/// Parses an already bounded multipart body with the runtime's own parser.
pub(crate) async fn parse_multipart(
    content_type: &str,
    bytes: &[u8],
) -> worker::Result<worker::FormData> {
    let headers = worker::Headers::new();
    headers.set("content-type", content_type)?;
    let body = worker::js_sys::Uint8Array::from(bytes);
    let mut init = worker::RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    Request::new_with_init("https://multipart.invalid/", &init)?
        .form_data()
        .await
}

/// Handles one REST call; replies `{"status": 200, …}` or `{"status": N, "error", "code", …}`.
pub async fn handle(
    mut req: Request,
    env: &Env,
    wait: &Context,
    name: &str,
) -> worker::Result<Response> {
    let result = async {
        let op = op_for(name).ok_or(EdgeError::NotFound("route"))?;
        if !matches!(req.method(), Method::Get | Method::Post) {
            return Err(EdgeError::MethodNotAllowed);
        }
        let mut args = params(&mut req).await?;
        // Checked here too: a payload nested too deep could not even reach the Durable Object
        // inside the internal call.
        if let Some(payload) = args.get("payload") {
            fio_core::protocol::validate_payload(payload)?;
        }
        let key = match args.remove("key") {
            Some(Value::String(k)) => k,
            _ => return Err(EdgeError::code(ErrorCode::Unauthorized)),
        };
        let public_id = public_id_of_key(&key).ok_or(EdgeError::code(ErrorCode::Unauthorized))?;
        let mut ctx = context(&req, env, public_id);
        ctx.demo = false;
        ctx.api_key = Some(key.clone());
        dispatch(env, Some(wait), ctx, rest_call(op, &args)).await
    }
    .await;
    match result {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e.reply(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_app() {
        assert_eq!(public_id_of_key("fioa1234abcd.00ff"), Some("fioa1234abcd"));
        assert_eq!(public_id_of_key("a.b.c"), None);
        assert_eq!(public_id_of_key("noseparator"), None);
        assert_eq!(public_id_of_key("app."), None);
        assert_eq!(op_for("appstats"), Some(RestOp::AppStats));
        assert_eq!(op_for("nope"), None);
    }

    #[test]
    fn rest_calls_carry_typed_parameters() {
        let args: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "fid": 12, "pin": true, "payload": null, "limit": {"a": 1}, "offset": "3",
        }))
        .unwrap();
        let DoCall::SetPin(pin) = rest_call(RestOp::SetPin, &args) else {
            panic!("setfacialidpincode is SetPin")
        };
        assert_eq!(
            pin.fid,
            Some(Param::Text("12".into())),
            "numbers as their text"
        );
        assert_eq!(pin.pin, Some(Param::Text("true".into())));
        let DoCall::SetPayload(p) = rest_call(RestOp::SetPayload, &args) else {
            panic!("setfacialidpayload is SetPayload")
        };
        assert_eq!(
            p.payload,
            Some(PayloadArg::Json(Value::Null)),
            "null is a payload"
        );
        let DoCall::ListFacialIds(l) = rest_call(RestOp::ListFacialIds, &args) else {
            panic!("listfacialids is ListFacialIds")
        };
        assert_eq!(l.limit, Some(Param::NotText));
        assert_eq!(l.offset, Some(Param::Text("3".into())));
        let text: Map<String, Value> =
            serde_json::from_value(serde_json::json!({"payloadText": "{\"a\":1}"})).unwrap();
        let DoCall::SetPayload(p) = rest_call(RestOp::SetPayload, &text) else {
            panic!("setfacialidpayload is SetPayload")
        };
        assert_eq!(p.payload, Some(PayloadArg::Text("{\"a\":1}".into())));
        assert_eq!(p.fid, None);
    }
}
