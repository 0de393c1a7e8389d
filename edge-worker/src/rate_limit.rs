//! Fixed-window request counters, kept in the app's Durable Object memory.
//!
//! A Durable Object is single-threaded, so plain maps suffice; counters reset when the object is
//! evicted, which errs towards allowing traffic (acceptable for abuse throttling, not billing).

use std::collections::HashMap;

/// Window length.
pub const WINDOW_MS: u64 = 60_000;

/// Most distinct keys tracked before stale windows are swept.
const MAX_KEYS: usize = 50_000;

/// Counters per key for the current one-minute window.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<String, (u64, u32)>,
}

impl RateLimiter {
    /// Counts one request for `key`; false when `limit` requests were already counted in the
    /// current window (refused requests are not counted).
    pub fn allow(&mut self, key: &str, limit: u32, now_ms: u64) -> bool {
        let window = now_ms / WINDOW_MS;
        if self.windows.len() >= MAX_KEYS {
            self.windows.retain(|_, (w, _)| *w == window);
        }
        let entry = self.windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        if entry.1 >= limit {
            return false;
        }
        entry.1 += 1;
        true
    }

    /// Checks several `(key, limit)` counters together: all are counted only if all allow.
    pub fn allow_all(&mut self, keys: &[(&str, u32)], now_ms: u64) -> bool {
        let window = now_ms / WINDOW_MS;
        let full = keys.iter().any(|(k, limit)| {
            self.windows
                .get(*k)
                .is_some_and(|&(w, n)| w == window && n >= *limit)
        });
        if full {
            return false;
        }
        for (k, limit) in keys {
            self.allow(k, *limit, now_ms);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_limits_and_resets() {
        let mut r = RateLimiter::default();
        assert!(r.allow("a", 2, 0));
        assert!(r.allow("a", 2, 10));
        assert!(!r.allow("a", 2, 20));
        assert!(r.allow("b", 2, 20));
        assert!(r.allow("a", 2, WINDOW_MS));
    }

    #[test]
    fn allow_all_is_all_or_nothing() {
        let mut r = RateLimiter::default();
        assert!(r.allow_all(&[("app", 3), ("ip1", 1)], 0));
        assert!(!r.allow_all(&[("app", 3), ("ip1", 1)], 1));
        assert!(r.allow_all(&[("app", 3), ("ip2", 1)], 2));
        assert!(r.allow_all(&[("app", 3), ("ip3", 1)], 3));
        assert!(!r.allow_all(&[("app", 3), ("ip4", 1)], 4));
    }
}
