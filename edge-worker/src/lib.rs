//! OpenFIO edge worker: a Cloudflare Worker in Rust (work in progress).
use worker::*;

/// Entry point for every HTTP request.
#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("openfio")
}
