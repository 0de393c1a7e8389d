# The release profile of the two wasm builds (fio-wasm/build.sh, edge-worker/build.sh; sourced,
# not run): whole-program LTO, one codegen unit, optimised for size. The same settings in both, so
# they keep sharing one compile of tract. The crates that hold per-frame or per-login kernels stay
# at opt-level 3 through the package overrides in Cargo.toml (a no-op for native builds, which are
# at 3 anyway). Measured in README.md, "Light client": the wasm 13.06 → 8.6 MB raw, 2.20 → 1.64 MB
# brotli, per-frame analysis 4–11 % slower than the all-3 build (tract-core at 3 as well gave the
# same speed as the default build at 11.6 MB).
export CARGO_PROFILE_RELEASE_LTO=true
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
