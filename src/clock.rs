//! Time as a parameter: domain code asks a `Clock` instead of reading the system time, so tests
//! can move time forward (lockouts, session expiry) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Milliseconds since the Unix epoch, UTC: the unit every stored time uses.
pub type Millis = i64;

pub trait Clock: Send + Sync + 'static {
    fn now_millis(&self) -> Millis;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    // The one reading of the system time (clippy.toml bans it everywhere else).
    #[allow(clippy::disallowed_methods)]
    fn now_millis(&self) -> Millis {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        since_epoch.as_millis() as Millis
    }
}

/// A clock that only moves when told to; for tests.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn starting_at(millis: Millis) -> Self {
        Self(Arc::new(AtomicI64::new(millis)))
    }

    /// Moves to `millis`, forwards or back (e.g. to real time, to talk to a real provider).
    pub fn set(&self, millis: Millis) {
        self.0.store(millis, Ordering::SeqCst);
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// Formats epoch milliseconds as an RFC 3339 timestamp (UTC), as shown in the UI and SCIM `meta`:
/// [`Rfc3339Text`]'s text, empty outside the years 0000–9999.
pub fn rfc3339(millis: Millis) -> String {
    Rfc3339Text::of(millis).as_str().to_string()
}

/// The longest [`Rfc3339Text`]: `9999-12-31T23:59:59.999Z`.
const RFC3339_MAX: usize = 24;

/// Epoch milliseconds as `time`'s RFC 3339 formatting of them in UTC writes them
/// (`2023-11-14T22:13:20.12Z`: the fraction without its trailing zeros, none when zero), held in
/// place; empty outside the years 0000–9999, which RFC 3339 cannot write. Written by hand: every
/// user and group a SCIM answer shows carries two, and `time`'s general formatter, with the
/// `String` it returns, cost about a thousand instructions a timestamp.
#[derive(Clone, Copy)]
pub struct Rfc3339Text {
    bytes: [u8; RFC3339_MAX],
    len: usize,
}

impl Rfc3339Text {
    pub fn of(millis: Millis) -> Self {
        let mut text = Rfc3339Text {
            bytes: [0; RFC3339_MAX],
            len: 0,
        };
        let seconds = millis.div_euclid(1000);
        let fraction = millis.rem_euclid(1000);
        let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        if !(0..=9999).contains(&year) {
            return text;
        }
        let buf = &mut text.bytes;
        let mut put = |at: usize, width: usize, mut n: i64| {
            for i in (at..at + width).rev() {
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, second_of_day / 3600);
        put(14, 2, second_of_day / 60 % 60);
        put(17, 2, second_of_day % 60);
        put(20, 3, fraction);
        for (at, sep) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
        ] {
            buf[at] = sep;
        }
        let mut end = 23;
        while end > 19 && buf[end - 1] == b'0' {
            end -= 1;
        }
        if end == 20 {
            end = 19; // no fraction: no point either
        }
        buf[end] = b'Z';
        text.len = end + 1;
        text
    }

    pub fn as_str(&self) -> &str {
        // Digits and separators only: ASCII.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The proleptic Gregorian (year, month, day) of a day counted from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`: eras of 400 years, years starting in March).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance_minutes(2);
        assert_eq!(clock.now_millis(), 121_000);
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(1_700_000_000_120), "2023-11-14T22:13:20.12Z");
        assert_eq!(rfc3339(1_700_000_000_100), "2023-11-14T22:13:20.1Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    /// `time`'s RFC 3339 formatting of the same instant, which [`Rfc3339Text`] replaced.
    fn by_time(millis: Millis) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    #[test]
    fn rfc3339_writes_what_time_writes_from_year_0_to_9999_and_nothing_beyond() {
        const FIRST: Millis = -62_167_219_200_000; // 0000-01-01T00:00:00Z
        const LAST: Millis = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        let mut cases = vec![FIRST, LAST, 0, -1, 1, 86_399_999, 86_400_000];
        // Every day's edges over four centuries' leap rules, then scattered instants.
        let mut day = -719_528; // 0000-01-01
        while day < 2_932_897 {
            cases.extend([day * 86_400_000, day * 86_400_000 - 1]);
            day += 61;
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(FIRST + (x % (LAST - FIRST + 1) as u64) as Millis);
        }
        for millis in cases {
            assert_eq!(rfc3339(millis), by_time(millis), "{millis}");
        }
        assert_eq!(rfc3339(FIRST - 1), "");
        assert_eq!(rfc3339(LAST + 1), "");
        assert_eq!(rfc3339(Millis::MIN), "");
        assert_eq!(rfc3339(Millis::MAX), "");
    }
}
