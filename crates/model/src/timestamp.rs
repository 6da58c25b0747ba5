//! Timestamps as GameLift sends them: epoch seconds with millisecond precision.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time, held as milliseconds since the Unix epoch.
///
/// AWS returns seconds with a millisecond fraction (`1568836191.995`), so that is
/// the precision kept; finer input (botocore sends microseconds) is truncated.
/// Persisted (serde) as the integer number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The timestamp `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded toward negative infinity).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Converts fractional epoch seconds, as found on the wire; `None` if not finite or out of range.
    ///
    /// A value that is exactly some whole millisecond in `f64` (what a client writing
    /// `1704067200.123` means) maps to that millisecond; anything finer is truncated.
    pub fn from_secs_f64(secs: f64) -> Option<Self> {
        let scaled = secs * 1000.0;
        if !scaled.is_finite() || scaled.abs() >= 8.64e15 {
            return None;
        }
        let nearest = scaled.round();
        let millis = if nearest / 1000.0 == secs { nearest } else { scaled.floor() };
        Some(Timestamp(millis as i64))
    }

    /// Fractional epoch seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The same instant as a [`SystemTime`].
    pub fn as_system_time(self) -> SystemTime {
        let offset = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 { UNIX_EPOCH + offset } else { UNIX_EPOCH - offset }
    }

    /// This timestamp moved back by `d` (saturating).
    pub fn minus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }

    /// This timestamp moved forward by `d` (saturating).
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => Timestamp(-i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_that_are_whole_milliseconds_are_not_shifted_by_float_error() {
        assert_eq!(Timestamp::from_secs_f64(-279343191357.267).unwrap().as_millis(), -279_343_191_357_267);
        assert_eq!(Timestamp::from_secs_f64(0.001).unwrap().as_millis(), 1);
    }

    #[test]
    fn fractional_seconds_keep_millisecond_precision() {
        let t = Timestamp::from_secs_f64(1704067200.123456).unwrap();
        assert_eq!(t.as_millis(), 1_704_067_200_123);
        assert_eq!(t.as_secs(), 1_704_067_200);
    }

    #[test]
    fn non_finite_seconds_are_rejected() {
        assert!(Timestamp::from_secs_f64(f64::NAN).is_none());
        assert!(Timestamp::from_secs_f64(f64::INFINITY).is_none());
        assert!(Timestamp::from_secs_f64(1e300).is_none());
    }
}
