//! OpenFIO's edge worker: a Cloudflare Worker that stores face templates, does the 1:N match
//! and serves FACEIO's widget, REST and operator APIs (see `docs/edge-api.md`).
//!
//! Front worker (this entry point: routing, size caps, request context) → one `AppIndex`
//! Durable Object per application (all consistent decisions, in-memory template index) →
//! Workers KV (replicated facial-ID records).
// `deny`, not `forbid`: `static_init` alone calls the linker's constructor function.
#![deny(unsafe_code)]

pub mod app_config;
pub mod app_index;
pub mod crypto;
pub mod do_protocol;
pub mod error;
pub mod gate;
pub mod kv_records;
pub mod rate_limit;
pub mod reverify;
pub mod routes;
#[cfg(target_arch = "wasm32")]
mod static_init;
pub mod token;
pub mod token_signing;
pub mod webhook;

use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // The Durable Object never runs the models, so only the front worker needs them.
    #[cfg(target_arch = "wasm32")]
    static_init::run_once();
    routes::handle(req, env, ctx).await
}
