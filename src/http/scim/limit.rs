//! The per-integration request rate (`ROSTER_SCIM_RATE`, `ROSTER_SCIM_BURST`): a token bucket
//! per integration, in this process's memory (each replica counts its own requests).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::ScimRate;

/// Buckets by integration id. Only authenticated integrations get one, so the map is as large as
/// the number of integrations.
#[derive(Debug)]
pub struct RateLimiter {
    rate: ScimRate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(rate: ScimRate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket at `now`; `Err(seconds)` to wait when it is empty.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let (per_second, burst) = (f64::from(self.rate.per_second), f64::from(self.rate.burst));
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a poisoned lock limits nobody rather than everybody
        };
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_second).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        Err(((1.0 - b.tokens) / per_second).ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_rate_per_integration() {
        let l = RateLimiter::new(ScimRate {
            per_second: 2,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.take("a", t0), Ok(()));
        }
        assert_eq!(l.take("a", t0), Err(1));
        assert_eq!(l.take("b", t0), Ok(()));
        assert_eq!(l.take("a", t0 + Duration::from_millis(500)), Ok(()));
        assert!(l.take("a", t0 + Duration::from_millis(500)).is_err());
    }
}
