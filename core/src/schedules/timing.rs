//! When a scheduled task is due: a cron expression read in an IANA time zone.
//!
//! croner parses the expression and walks the calendar; chrono-tz knows the zones. Nothing here
//! parses cron or zone rules by hand. Daylight saving follows the Open Cron Pattern
//! Specification, which croner implements: a time of day that a clock change skips runs once, at
//! the first minute after the gap; a time of day that a clock change repeats runs once, on its
//! first pass. Expressions with a wildcard or step in the minute or hour (`*/15 * * * *`) keep
//! their real-time rhythm instead: they run in the repeated hour as in any other.

use crate::create::FieldError;
use crate::ids::Timestamp;
use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// Longest cron expression accepted (the longest sensible one is far shorter).
pub const CRON_MAX_CHARS: usize = 200;

/// A task's schedule: its cron expression in its time zone.
#[derive(Clone, Debug)]
pub struct Timing {
    cron: Cron,
    zone: Tz,
}

impl Timing {
    /// Reads `cron` (five fields: minute, hour, day of month, month, day of week; or a nickname
    /// such as `@daily`) and `time_zone` (an IANA name such as `Europe/Berlin`), naming the field
    /// at fault.
    pub fn parse(cron: &str, time_zone: &str) -> Result<Self, FieldError> {
        let text = cron.trim();
        let chars = text.chars().count();
        if chars > CRON_MAX_CHARS {
            return Err(FieldError::new(
                "cron",
                format!("cron is {chars} characters long; the limit is {CRON_MAX_CHARS}"),
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(text).map_err(|e| {
            FieldError::new(
                "cron",
                format!(
                    "cron {text:?} is not a cron expression of five fields (minute hour \
                     day-of-month month day-of-week) or a nickname such as @daily: {e}"
                ),
            )
        })?;
        let zone = time_zone.parse::<Tz>().map_err(|_| {
            FieldError::new(
                "timeZone",
                format!(
                    "timeZone {time_zone:?} is not an IANA time zone name such as Europe/Berlin, \
                     America/New_York or UTC"
                ),
            )
        })?;
        Ok(Self { cron, zone })
    }

    /// The first due time after `after`, or `None` when the expression never comes due again
    /// (`0 0 30 2 *`, the 30th of February).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let start = self.zoned(after)?;
        let next = self.cron.find_next_occurrence(&start, false).ok()?;
        Timestamp::from_millis(next.timestamp_millis())
    }

    /// The latest due time at or before `at`: the one a run that starts late stands for.
    pub fn latest_at_or_before(&self, at: Timestamp) -> Option<Timestamp> {
        let start = self.zoned(at)?;
        let previous = self.cron.find_previous_occurrence(&start, true).ok()?;
        Timestamp::from_millis(previous.timestamp_millis())
    }

    /// [`Self::next_after`] for a schedule being saved: one that never comes due is refused.
    pub fn first_due_after(&self, now: Timestamp) -> Result<Timestamp, FieldError> {
        self.next_after(now).ok_or_else(|| {
            FieldError::new(
                "cron",
                format!(
                    "cron {:?} never comes due (no date matches it)",
                    self.cron.pattern.to_string()
                ),
            )
        })
    }

    /// `t` on the task's own clock, formatted with a strftime `pattern`.
    pub fn local(&self, t: Timestamp, pattern: &str) -> String {
        self.zoned(t)
            .map(|local| local.format(pattern).to_string())
            .unwrap_or_default()
    }

    fn zoned(&self, t: Timestamp) -> Option<DateTime<Tz>> {
        self.zone.timestamp_millis_opt(t.millis()).single()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn next(cron: &str, zone: &str, after: &str) -> String {
        Timing::parse(cron, zone)
            .unwrap()
            .next_after(at(after))
            .map(|t| t.to_string())
            .unwrap_or_else(|| "never".into())
    }

    /// Each row: the expression, its zone, the instant searched from (UTC) and the due time that
    /// follows it (UTC), with why.
    #[test]
    fn due_times_in_time_zones_across_clock_changes() {
        let table = [
            // Plain days: 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
            (
                "0 9 * * *",
                "Europe/Berlin",
                "2026-01-10T12:00:00Z",
                "2026-01-11T08:00:00.000Z",
            ),
            (
                "0 9 * * *",
                "Europe/Berlin",
                "2026-07-10T12:00:00Z",
                "2026-07-11T07:00:00.000Z",
            ),
            (
                "0 9 * * *",
                "UTC",
                "2026-07-10T08:59:59.999Z",
                "2026-07-10T09:00:00.000Z",
            ),
            // Exactly on a due time: the next one, never the same one again.
            (
                "0 9 * * *",
                "UTC",
                "2026-07-10T09:00:00.000Z",
                "2026-07-11T09:00:00.000Z",
            ),
            (
                "0 9 * * *",
                "UTC",
                "2026-07-10T09:00:00.500Z",
                "2026-07-11T09:00:00.000Z",
            ),
            // Berlin springs forward on 29 March 2026, 02:00 CET → 03:00 CEST: 02:30 does not
            // exist that day and runs once, at 03:00 CEST (01:00 UTC) …
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-03-28T12:00:00Z",
                "2026-03-29T01:00:00.000Z",
            ),
            // … and not again that day: the next is 02:30 CEST on the 30th.
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-03-29T01:00:00Z",
                "2026-03-30T00:30:00.000Z",
            ),
            // Berlin falls back on 25 October 2026, 03:00 CEST → 02:00 CET: 02:30 happens twice
            // and runs once, on its first pass (00:30 UTC) …
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-10-24T12:00:00Z",
                "2026-10-25T00:30:00.000Z",
            ),
            // … not on its second pass (01:30 UTC); the next is 02:30 CET on the 26th.
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00.000Z",
            ),
            // New York springs forward on 8 March 2026, 02:00 EST → 03:00 EDT.
            (
                "30 2 * * *",
                "America/New_York",
                "2026-03-07T12:00:00Z",
                "2026-03-08T07:00:00.000Z",
            ),
            (
                "30 2 * * *",
                "America/New_York",
                "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00.000Z",
            ),
            // New York falls back on 1 November 2026, 02:00 EDT → 01:00 EST: 01:30 runs once.
            (
                "30 1 * * *",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                "2026-11-01T05:30:00.000Z",
            ),
            (
                "30 1 * * *",
                "America/New_York",
                "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00.000Z",
            ),
            // Hourly keeps real-time hours: the hour that does not exist is not run (nor run
            // twice after the gap) …
            (
                "0 * * * *",
                "Europe/Berlin",
                "2026-03-29T00:30:00Z",
                "2026-03-29T01:00:00.000Z",
            ),
            (
                "0 * * * *",
                "Europe/Berlin",
                "2026-03-29T01:00:00Z",
                "2026-03-29T02:00:00.000Z",
            ),
            // … and the repeated hour is a real hour, run like any other (01:00 EDT, then 01:00 EST).
            (
                "0 * * * *",
                "America/New_York",
                "2026-11-01T04:30:00Z",
                "2026-11-01T05:00:00.000Z",
            ),
            (
                "0 * * * *",
                "America/New_York",
                "2026-11-01T05:00:00Z",
                "2026-11-01T06:00:00.000Z",
            ),
            (
                "0 * * * *",
                "America/New_York",
                "2026-11-01T06:00:00Z",
                "2026-11-01T07:00:00.000Z",
            ),
            // Monthly anchors: the 31st runs only in months that have one (April has not) …
            (
                "0 9 31 * *",
                "UTC",
                "2026-04-01T00:00:00Z",
                "2026-05-31T09:00:00.000Z",
            ),
            // … `L` is the last day of every month …
            (
                "0 9 L * *",
                "UTC",
                "2026-04-01T00:00:00Z",
                "2026-04-30T09:00:00.000Z",
            ),
            (
                "0 9 L 2 *",
                "UTC",
                "2027-01-01T00:00:00Z",
                "2027-02-28T09:00:00.000Z",
            ),
            (
                "0 9 L 2 *",
                "UTC",
                "2028-01-01T00:00:00Z",
                "2028-02-29T09:00:00.000Z",
            ),
            // … and 29 February comes in leap years only.
            (
                "0 9 29 2 *",
                "UTC",
                "2026-03-01T00:00:00Z",
                "2028-02-29T09:00:00.000Z",
            ),
            // A monthly time in a zone: the 1st at 00:15 in New York is the 1st, not the 31st.
            (
                "15 0 1 * *",
                "America/New_York",
                "2026-07-15T00:00:00Z",
                "2026-08-01T04:15:00.000Z",
            ),
            // Nicknames.
            (
                "@daily",
                "UTC",
                "2026-07-10T12:00:00Z",
                "2026-07-11T00:00:00.000Z",
            ),
            (
                "@weekly",
                "UTC",
                "2026-07-10T12:00:00Z",
                "2026-07-12T00:00:00.000Z",
            ),
        ];
        for (cron, zone, after, expected) in table {
            assert_eq!(
                next(cron, zone, after),
                expected,
                "{cron} in {zone} after {after}"
            );
        }
    }

    /// Walking a clock change day from one due time to the next, as the scheduler does: a fixed
    /// time of day runs once; a step through the night keeps its real-time rhythm.
    #[test]
    fn walking_through_clock_change_days() {
        let cases = [
            (
                "*/30 0-4 * * *",
                "Europe/Berlin",
                "2026-10-24T21:59:00Z",
                "2026-10-25T04:00:00Z",
            ),
            (
                "30 2 * * *",
                "Europe/Berlin",
                "2026-03-28T22:00:00Z",
                "2026-03-30T22:00:00Z",
            ),
            (
                "30 1 * * *",
                "America/New_York",
                "2026-10-31T12:00:00Z",
                "2026-11-02T12:00:00Z",
            ),
        ];
        let walk = |cron: &str, zone: &str, from: &str, to: &str| {
            let timing = Timing::parse(cron, zone).unwrap();
            let mut due = Vec::new();
            let mut t = at(from);
            while let Some(next) = timing.next_after(t).filter(|n| *n < at(to)) {
                due.push(timing.local(next, "%d %H:%M %Z"));
                t = next;
            }
            due
        };
        // Half-hourly through the night Berlin falls back: 02:00 and 02:30 happen twice in real
        // time, and an every-30-minutes task runs in both (it keeps its rhythm).
        assert_eq!(
            walk(cases[0].0, cases[0].1, cases[0].2, cases[0].3),
            [
                "25 00:00 CEST",
                "25 00:30 CEST",
                "25 01:00 CEST",
                "25 01:30 CEST",
                "25 02:00 CEST",
                "25 02:30 CEST",
                "25 02:00 CET",
                "25 02:30 CET",
                "25 03:00 CET",
                "25 03:30 CET",
                "25 04:00 CET",
                "25 04:30 CET",
            ]
        );
        assert_eq!(
            walk(cases[1].0, cases[1].1, cases[1].2, cases[1].3),
            ["29 03:00 CEST", "30 02:30 CEST"]
        );
        assert_eq!(
            walk(cases[2].0, cases[2].1, cases[2].2, cases[2].3),
            ["01 01:30 EDT", "02 01:30 EST"]
        );
    }

    #[test]
    fn the_latest_due_time_is_the_slot_a_late_run_stands_for() {
        let timing = Timing::parse("0 9 * * *", "Europe/Berlin").unwrap();
        let slot = timing
            .latest_at_or_before(at("2026-07-13T12:00:00Z"))
            .unwrap();
        assert_eq!(slot.to_string(), "2026-07-13T07:00:00.000Z");
        let exact = timing
            .latest_at_or_before(at("2026-07-13T07:00:00Z"))
            .unwrap();
        assert_eq!(exact, slot);
    }

    #[test]
    fn bad_expressions_and_zones_name_their_field() {
        let cases = [
            ("", "UTC", "cron"),
            ("* * * *", "UTC", "cron"),
            ("0 9 * * * *", "UTC", "cron"),
            ("0 9 * * * 2027", "UTC", "cron"),
            ("61 * * * *", "UTC", "cron"),
            ("0 25 * * *", "UTC", "cron"),
            ("rm -rf / * * *", "UTC", "cron"),
            ("0 9 * * *", "", "timeZone"),
            ("0 9 * * *", "Europe/Atlantis", "timeZone"),
            ("0 9 * * *", "europe/berlin", "timeZone"),
            ("0 9 * * *", "+02:00", "timeZone"),
            ("0 9 * * *", "CEST", "timeZone"),
        ];
        for (cron, zone, field) in cases {
            let error = Timing::parse(cron, zone).expect_err(cron);
            assert_eq!(error.field, field, "{cron:?} in {zone:?}: {error}");
            assert!(error.message.starts_with(field), "{error}");
        }
        let long = "0 ".repeat(CRON_MAX_CHARS);
        assert_eq!(Timing::parse(&long, "UTC").unwrap_err().field, "cron");
    }

    #[test]
    fn an_expression_that_never_comes_due_is_refused_when_saved() {
        let timing = Timing::parse("0 0 30 2 *", "UTC").unwrap();
        let error = timing
            .first_due_after(at("2026-01-01T00:00:00Z"))
            .unwrap_err();
        assert_eq!(error.field, "cron");
        assert!(error.message.contains("never comes due"), "{error}");
    }
}
