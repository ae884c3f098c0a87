//! The per-client limit on creating sessions (`--sessions-per-minute`): a token bucket per
//! client address, so one browser tab reloading or one script looping cannot take the
//! station's places by itself. Pure apart from its mutex: the caller passes the time in.
//!
//! A client is an IPv4 address or an IPv6 /64 (one household or host gets a whole /64, and
//! picking a new address inside it is free). Behind a reverse proxy every client is the
//! proxy: set the limit to 0 there and limit at the proxy. Memory is bounded: buckets that
//! have refilled are forgotten, and past `MAX_CLIENTS` the longest-idle one makes room.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients tracked at most (a few dozen bytes each).
pub const MAX_CLIENTS: usize = 16_384;
/// How often full buckets are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Who a client is, for the limit: its IPv4 address, or its IPv6 /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(u32),
    /// The network half (the first 64 bits) of an IPv6 address.
    V6(u64),
}

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4.into()),
            // IPv4-mapped addresses (a dual-stack socket) are the IPv4 client they carry.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4.into()),
                None => ClientKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets per client: `per_minute` sessions may be created in a burst, and one more
/// each `60 / per_minute` seconds after that.
pub struct CreateLimiter {
    per_minute: u32,
    state: Mutex<State>,
}

struct State {
    buckets: HashMap<ClientKey, Bucket>,
    last_sweep: Option<Instant>,
}

impl CreateLimiter {
    /// `per_minute` 0: no limit.
    pub fn new(per_minute: u32) -> CreateLimiter {
        CreateLimiter {
            per_minute,
            state: Mutex::new(State {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    fn refill_per_sec(&self) -> f64 {
        f64::from(self.per_minute) / 60.0
    }

    /// The bucket's tokens at `now` (a clock that went back counts as no time passed).
    fn level(&self, b: &Bucket, now: Instant) -> f64 {
        let secs = now.saturating_duration_since(b.updated).as_secs_f64();
        (b.tokens + secs * self.refill_per_sec()).min(self.capacity())
    }

    /// Takes a token for `client` at `now`: `Ok` if it may create a session, else the whole
    /// seconds until it may (at least 1).
    pub fn take(&self, client: ClientKey, now: Instant) -> Result<(), u32> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        self.sweep(&mut st, now);
        if !st.buckets.contains_key(&client) && st.buckets.len() >= MAX_CLIENTS {
            evict_longest_idle(&mut st.buckets);
        }
        let full = self.capacity();
        let b = st.buckets.entry(client).or_insert(Bucket {
            tokens: full,
            updated: now,
        });
        let tokens = self.level(b, now);
        b.updated = now.max(b.updated);
        if tokens >= 1.0 {
            b.tokens = tokens - 1.0;
            return Ok(());
        }
        b.tokens = tokens;
        // Whole seconds, rounded up (less a hair of floating-point noise: 10.000001 is 10).
        let wait = (1.0 - tokens) / self.refill_per_sec();
        Err(((wait - 1e-6).ceil() as u32).max(1))
    }

    /// Gives back the token of a create that did not happen (the station was full, or had
    /// nothing to play yet): a page waiting for a place does not use up its allowance.
    pub fn refund(&self, client: ClientKey) {
        if self.per_minute == 0 {
            return;
        }
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = st.buckets.get_mut(&client) {
            b.tokens = (b.tokens + 1.0).min(self.capacity());
        }
    }

    /// Clients currently tracked.
    pub fn tracked(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }

    /// Forgets buckets that have refilled: such a client is the same as a new one.
    fn sweep(&self, st: &mut State, now: Instant) {
        if st
            .last_sweep
            .is_some_and(|t| now.saturating_duration_since(t) < SWEEP_EVERY)
        {
            return;
        }
        st.last_sweep = Some(now);
        let full = self.capacity();
        st.buckets.retain(|_, b| self.level(b, now) < full);
    }
}

fn evict_longest_idle(buckets: &mut HashMap<ClientKey, Bucket>) {
    if let Some(key) = buckets
        .iter()
        .min_by_key(|(_, b)| b.updated)
        .map(|(k, _)| *k)
    {
        buckets.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> ClientKey {
        ClientKey::of(s.parse().unwrap())
    }
    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn a_burst_of_the_limit_then_one_per_interval() {
        let l = CreateLimiter::new(2);
        let t0 = Instant::now();
        let a = ip("127.0.0.1");
        assert_eq!(l.take(a, t0), Ok(()));
        assert_eq!(l.take(a, t0), Ok(()));
        // Empty: one token comes back every 30 s.
        assert_eq!(l.take(a, t0), Err(30));
        assert_eq!(l.take(a, t0 + 20 * SEC), Err(10));
        assert_eq!(l.take(a, t0 + 30 * SEC), Ok(()));
        assert_eq!(l.take(a, t0 + 30 * SEC), Err(30));
        // Refused attempts take nothing: the wait does not grow with asking.
        assert_eq!(l.take(a, t0 + 59 * SEC), Err(1));
        assert_eq!(l.take(a, t0 + 60 * SEC), Ok(()));
    }

    #[test]
    fn clients_are_counted_apart_and_ipv6_by_its_64() {
        let l = CreateLimiter::new(1);
        let t = Instant::now();
        assert_eq!(l.take(ip("10.0.0.1"), t), Ok(()));
        assert_eq!(l.take(ip("10.0.0.2"), t), Ok(()));
        assert!(l.take(ip("10.0.0.1"), t).is_err());
        assert_eq!(l.take(ip("2001:db8:1:2::1"), t), Ok(()));
        assert!(l.take(ip("2001:db8:1:2:ffff::9"), t).is_err(), "same /64");
        assert_eq!(l.take(ip("2001:db8:1:3::1"), t), Ok(()), "another /64");
        assert_eq!(ip("::ffff:10.0.0.1"), ip("10.0.0.1"), "IPv4-mapped");
        assert_ne!(
            ip("::a00:1"),
            ip("10.0.0.1"),
            "an IPv6 /64 is not an IPv4 address"
        );
    }

    #[test]
    fn zero_means_no_limit() {
        let l = CreateLimiter::new(0);
        let t = Instant::now();
        for _ in 0..1000 {
            assert_eq!(l.take(ip("127.0.0.1"), t), Ok(()));
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn a_refund_gives_the_token_back_never_more_than_the_burst() {
        let l = CreateLimiter::new(1);
        let t = Instant::now();
        let a = ip("127.0.0.1");
        assert_eq!(l.take(a, t), Ok(()));
        l.refund(a);
        assert_eq!(l.take(a, t), Ok(()));
        assert!(l.take(a, t).is_err());
        l.refund(a);
        l.refund(a);
        assert_eq!(l.take(a, t), Ok(()));
        assert!(
            l.take(a, t).is_err(),
            "refunds do not add up past the burst"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let l = CreateLimiter::new(6);
        let t = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            let _ = l.take(ClientKey::of(IpAddr::V4(i.into())), t);
        }
        assert_eq!(l.tracked(), MAX_CLIENTS);
        // A minute later every bucket has refilled: the next sweep forgets them all.
        let later = t + 61 * SEC;
        assert_eq!(l.take(ip("192.0.2.1"), later), Ok(()));
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn a_clock_that_goes_back_gives_nothing_away() {
        let l = CreateLimiter::new(1);
        let t = Instant::now() + 100 * SEC;
        let a = ip("127.0.0.1");
        assert_eq!(l.take(a, t), Ok(()));
        assert!(l.take(a, t - 50 * SEC).is_err());
        assert!(l.take(a, t + 59 * SEC).is_err());
        assert_eq!(l.take(a, t + 60 * SEC), Ok(()));
    }
}
