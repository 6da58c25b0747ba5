//! SigV4 timestamps and the clock-skew window (`control-plane-api.md` section 9.1 step 2).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openlift_model::{ApiError, ErrorCode};

/// How far the request time may be from the server's clock, in either direction.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

const SECS_PER_DAY: i64 = 86_400;

/// Parses the basic ISO-8601 form SigV4 uses, `YYYYMMDD'T'HHMMSS'Z'`.
pub fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || !text.is_ascii() || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
    Some(from_epoch_secs(secs))
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'` (whole seconds, UTC).
pub fn format_amz_date(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
    };
    let (days, rem) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Refuses a request time more than [`MAX_SKEW`] away from `now`, with AWS's messages.
pub fn check_skew(request_time: SystemTime, now: SystemTime) -> Result<(), ApiError> {
    let stamp = format_amz_date;
    if request_time + MAX_SKEW < now {
        let message = format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            stamp(request_time),
            stamp(now - MAX_SKEW),
            stamp(now)
        );
        return Err(ApiError::new(ErrorCode::InvalidSignatureException, message));
    }
    if request_time > now + MAX_SKEW {
        let message = format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            stamp(request_time),
            stamp(now + MAX_SKEW),
            stamp(now)
        );
        return Err(ApiError::new(ErrorCode::InvalidSignatureException, message));
    }
    Ok(())
}

fn from_epoch_secs(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip_through_epoch_seconds() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_440_938_160);
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(format_amz_date(parse_amz_date("20240229T235959Z").unwrap()), "20240229T235959Z");
        assert_eq!(format_amz_date(UNIX_EPOCH - Duration::from_secs(1)), "19691231T235959Z");
    }

    #[test]
    fn malformed_amz_dates_are_rejected() {
        for bad in
            ["", "20150830T123600", "20150830 123600Z", "20151330T123600Z", "20230229T000000Z", "2015083OT123600Z"]
        {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
        assert!(parse_amz_date("20150830T246000Z").is_none());
        assert!(parse_amz_date("2015ü830T12360Z").is_none());
    }
}
