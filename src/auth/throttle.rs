//! Throttling in Intune's manner: per tenant and per app within a tenant,
//! with a lower limit for writes than for all requests.
//!
//! Intune's limits for this entity set, per 20 seconds:
//!
//! ```text
//!                      per app (in a tenant)   per tenant (all apps)
//! writes (POST, ...)   200                     400
//! all requests         2000                    4000
//! ```
//!
//! Each limit is a token bucket that holds `limit` requests and refills
//! over the window, so a client may burst up to its limit and then gets
//! `429 TooManyRequests` with a `Retry-After` of the seconds until its
//! bucket has room again. A refused request uses up nothing, and one app's
//! buckets are its own: an app that floods is refused while the others in
//! the tenant are served, until the tenant's shared limit is reached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::permissions::Access;

/// More buckets than this and the full ones are dropped.
const MAX_IDLE_BUCKETS: usize = 10_000;

/// The configured limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleSettings {
    pub enabled: bool,
    pub window: Duration,
    pub app_writes: u32,
    pub tenant_writes: u32,
    pub app_requests: u32,
    pub tenant_requests: u32,
}

impl Default for ThrottleSettings {
    /// Intune's limits.
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(20),
            app_writes: 200,
            tenant_writes: 400,
            app_requests: 2000,
            tenant_requests: 4000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    App { tenant_id: String, app_id: String },
    Tenant { tenant_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BucketKey {
    scope: Scope,
    writes_only: bool,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The buckets of every client.
#[derive(Debug)]
pub struct Throttle {
    settings: ThrottleSettings,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
}

impl Throttle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one request of `app_id` in `tenant_id`, or says how many
    /// seconds to wait before the next one.
    pub fn admit(&self, tenant_id: &str, app_id: &str, access: Access) -> Result<(), u64> {
        if !self.settings.enabled {
            return Ok(());
        }
        let now = Instant::now();
        let limits = self.limits_for(tenant_id, app_id, access);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());

        // Refill every bucket first; take from them only if all have room.
        let mut wait = Duration::ZERO;
        for (key, limit) in &limits {
            let bucket = buckets.entry(key.clone()).or_insert(Bucket {
                tokens: f64::from(*limit),
                updated: now,
            });
            self.refill(bucket, *limit, now);
            wait = wait.max(self.time_to_one_token(bucket, *limit));
        }
        if !wait.is_zero() {
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }

        for (key, _) in &limits {
            if let Some(bucket) = buckets.get_mut(key) {
                bucket.tokens -= 1.0;
            }
        }
        self.forget_idle(&mut buckets, now);
        Ok(())
    }

    fn limits_for(&self, tenant_id: &str, app_id: &str, access: Access) -> Vec<(BucketKey, u32)> {
        let app = Scope::App {
            tenant_id: tenant_id.to_owned(),
            app_id: app_id.to_owned(),
        };
        let tenant = Scope::Tenant {
            tenant_id: tenant_id.to_owned(),
        };
        let key = |scope: &Scope, writes_only| BucketKey {
            scope: scope.clone(),
            writes_only,
        };

        let mut limits = vec![
            (key(&app, false), self.settings.app_requests),
            (key(&tenant, false), self.settings.tenant_requests),
        ];
        if access == Access::Write {
            limits.push((key(&app, true), self.settings.app_writes));
            limits.push((key(&tenant, true), self.settings.tenant_writes));
        }
        limits
    }

    fn refill(&self, bucket: &mut Bucket, limit: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        let per_second = f64::from(limit) / self.settings.window.as_secs_f64().max(0.001);
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(f64::from(limit));
        bucket.updated = now;
    }

    fn time_to_one_token(&self, bucket: &Bucket, limit: u32) -> Duration {
        if bucket.tokens >= 1.0 {
            return Duration::ZERO;
        }
        if limit == 0 {
            return self.settings.window;
        }
        let per_second = f64::from(limit) / self.settings.window.as_secs_f64().max(0.001);
        Duration::from_secs_f64((1.0 - bucket.tokens) / per_second)
    }

    /// Drops buckets that have refilled completely, once there are many.
    fn forget_idle(&self, buckets: &mut HashMap<BucketKey, Bucket>, now: Instant) {
        if buckets.len() <= MAX_IDLE_BUCKETS {
            return;
        }
        let window = self.settings.window;
        buckets.retain(|_, bucket| now.saturating_duration_since(bucket.updated) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(app_writes: u32, app_requests: u32) -> ThrottleSettings {
        ThrottleSettings {
            enabled: true,
            window: Duration::from_secs(20),
            app_writes,
            tenant_writes: 1000,
            app_requests,
            tenant_requests: 1000,
        }
    }

    #[test]
    fn a_burst_past_the_limit_is_refused_with_a_wait() {
        let throttle = Throttle::new(settings(2, 100));

        assert_eq!(throttle.admit("t", "a", Access::Write), Ok(()));
        assert_eq!(throttle.admit("t", "a", Access::Write), Ok(()));

        // Two writes per 20 s refill one every 10 s.
        let wait = throttle.admit("t", "a", Access::Write).unwrap_err();
        assert!((9..=10).contains(&wait), "{wait}");
    }

    #[test]
    fn writes_past_their_limit_leave_reads_alone() {
        let throttle = Throttle::new(settings(1, 100));

        assert_eq!(throttle.admit("t", "a", Access::Write), Ok(()));
        assert!(throttle.admit("t", "a", Access::Write).is_err());

        assert_eq!(throttle.admit("t", "a", Access::Read), Ok(()));
    }

    #[test]
    fn other_apps_and_tenants_have_their_own_buckets() {
        let throttle = Throttle::new(settings(1, 1));
        assert_eq!(throttle.admit("t", "noisy", Access::Read), Ok(()));
        assert!(throttle.admit("t", "noisy", Access::Read).is_err());

        assert_eq!(throttle.admit("t", "quiet", Access::Read), Ok(()));
        assert_eq!(throttle.admit("other", "noisy", Access::Read), Ok(()));
    }

    #[test]
    fn the_tenant_limit_covers_all_its_apps() {
        let mut limits = settings(100, 100);
        limits.tenant_requests = 2;
        let throttle = Throttle::new(limits);

        assert_eq!(throttle.admit("t", "a", Access::Read), Ok(()));
        assert_eq!(throttle.admit("t", "b", Access::Read), Ok(()));

        assert!(throttle.admit("t", "c", Access::Read).is_err());
    }

    #[test]
    fn refused_requests_use_up_nothing() {
        let mut limits = settings(1, 100);
        limits.tenant_writes = 1;
        let throttle = Throttle::new(limits);
        assert_eq!(throttle.admit("t", "a", Access::Write), Ok(()));

        for _ in 0..5 {
            assert!(throttle.admit("t", "b", Access::Write).is_err());
        }

        // b's own write bucket is still full: only the tenant's is empty.
        let buckets = throttle.buckets.lock().unwrap();
        let b_writes = BucketKey {
            scope: Scope::App {
                tenant_id: "t".into(),
                app_id: "b".into(),
            },
            writes_only: true,
        };
        assert_eq!(buckets[&b_writes].tokens, 1.0);
    }

    proptest::proptest! {
        /// However requests interleave, no app gets more than its limit of
        /// one window at once, and a refusal always names a wait.
        #[test]
        fn no_app_exceeds_its_limit(
            requests in proptest::collection::vec((0u8..3, proptest::bool::ANY), 0..200),
        ) {
            let throttle = Throttle::new(settings(5, 20));
            let mut admitted = [0u32; 3];

            for (app, write) in requests {
                let access = if write { Access::Write } else { Access::Read };
                match throttle.admit("t", &app.to_string(), access) {
                    Ok(()) => admitted[usize::from(app)] += 1,
                    Err(wait) => proptest::prop_assert!(wait >= 1),
                }
            }

            proptest::prop_assert!(admitted.iter().all(|count| *count <= 20));
        }
    }

    #[test]
    fn disabled_throttling_admits_everything() {
        let mut limits = settings(0, 0);
        limits.enabled = false;
        let throttle = Throttle::new(limits);

        for _ in 0..10 {
            assert_eq!(throttle.admit("t", "a", Access::Write), Ok(()));
        }
    }
}
