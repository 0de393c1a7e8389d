//! HTTP routing and response helpers for the front worker.

pub mod admin;
pub mod rest;
pub mod widget;

use fio_core::Error as FioError;
use serde_json::{json, Value};
use worker::{Context, Env, Method, Request, Response};

use crate::do_protocol::{self, DoCall, DoReply, Op};
use crate::error::{EdgeError, EdgeResult, ErrorReply};
use crate::webhook;

/// Routes one request; every error becomes a JSON response.
pub async fn handle(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let path = req.path();
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["v1", public_id, action] => widget::handle(req, &env, &ctx, public_id, action).await,
        ["admin", "apps"] => admin::handle(req, &env, None).await,
        ["admin", "apps", public_id] => admin::handle(req, &env, Some(public_id)).await,
        [name] if rest::op_for(name).is_some() => rest::handle(req, &env, &ctx, name).await,
        [""] | ["health"] if req.method() == Method::Get => {
            json_response(200, &json!({"service": "openfio-edge", "status": "ok"}))
        }
        _ => error_response(&EdgeError::NotFound("route").reply(), false),
    }
}

/// JSON response with a status. Building a response only fails if the JS runtime is broken;
/// the error then propagates to workers-rs, which answers 500 (no panic).
pub fn json_response(status: u16, body: &Value) -> worker::Result<Response> {
    Ok(Response::from_json(body)?.with_status(status))
}

/// Error response, in widget (`{"error","code","message"}`) or REST (`{"status",…}`) form.
pub fn error_response(reply: &ErrorReply, rest_style: bool) -> worker::Result<Response> {
    let body = if rest_style {
        reply.rest_json()
    } else {
        reply.widget_json()
    };
    json_response(reply.status, &body)
}

/// A header's value, if present and non-empty.
pub fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .ok()
        .flatten()
        .filter(|v| !v.is_empty())
}

/// Reads the body, refusing more than `max` bytes by `Content-Length` and by the bytes
/// actually received.
pub async fn read_body(req: &mut Request, max: usize) -> EdgeResult<Vec<u8>> {
    let too_large = |size: usize| EdgeError::Fio(FioError::PayloadTooLarge { size, max });
    if let Some(len) = header(req, "content-length") {
        match len.trim().parse::<u64>() {
            Ok(n) if n > max as u64 => {
                return Err(too_large(usize::try_from(n).unwrap_or(usize::MAX)))
            }
            Ok(_) => {}
            Err(_) => return Err(EdgeError::bad_request("invalid Content-Length")),
        }
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| EdgeError::bad_request("unreadable body"))?;
    if bytes.len() > max {
        return Err(too_large(bytes.len()));
    }
    Ok(bytes)
}

/// Request context shared by widget and REST calls.
pub fn base_call(req: &Request, env: &Env, op: Op, public_id: &str) -> DoCall {
    let demo = env
        .var("DEMO_APP_ID")
        .map(|v| v.to_string())
        .is_ok_and(|d| !d.is_empty() && d == public_id);
    DoCall {
        op,
        public_id: public_id.to_owned(),
        client_ip: crate::gate::client_ip(
            header(req, "cf-connecting-ip").as_deref(),
            header(req, "x-forwarded-for").as_deref(),
        ),
        origin: header(req, "origin"),
        referer: header(req, "referer"),
        country: header(req, "cf-ipcountry"),
        api_key: None,
        demo,
        body: None,
        args: Value::Null,
        evidence: None,
    }
}

/// Calls the app's Durable Object and queues any webhook in `waitUntil`.
pub async fn dispatch(env: &Env, ctx: Option<&Context>, call: &DoCall) -> EdgeResult<Value> {
    let reply: DoReply = match do_protocol::call(env, call).await {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("durable object call failed: {e}");
            return Err(e);
        }
    };
    if let (Some(job), Some(ctx)) = (reply.webhook, ctx) {
        ctx.wait_until(webhook::deliver(job));
    }
    match (reply.ok, reply.err) {
        (_, Some(err)) => Err(EdgeError::Relayed(err)),
        (Some(v), None) => Ok(v),
        (None, None) => Err(EdgeError::Internal("empty reply".into())),
    }
}
