//! Runs the static constructors of the linked crates (tract registers its kernels through
//! `ctor`/`inventory`) once per instance, before the first request uses them.
//!
//! Without an explicit call, wasm-ld links the module as a "command" and wraps every export in
//! `__wasm_call_ctors`, so the constructors ran again on every call into the wasm: 7.6 % of the
//! worker's CPU per login in the V8 profile (`bash scripts/bench-edge.sh --self-host --profile`).
//! An explicit call in the input turns that wrapping off (LLVM D81689), so the call below is
//! both the one run and the switch. (Not a wasm-bindgen start function: workers-rs has one.)
#![allow(unsafe_code)]

use std::sync::Once;

unsafe extern "C" {
    /// Synthesized by wasm-ld: every static constructor of the module, in link order.
    fn __wasm_call_ctors();
}

/// Runs the constructors on the first call; later calls return at once.
pub fn run_once() {
    static DONE: Once = Once::new();
    // SAFETY: a linker-made function without arguments, run exactly once per instance.
    DONE.call_once(|| unsafe { __wasm_call_ctors() });
}
