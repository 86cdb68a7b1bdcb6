//! What a response means: a job report, or the error that sets the exit status.
//!
//! Pure on purpose (status, headers and bytes in, result out) so that every
//! shape a server or a proxy can answer with is unit-tested without a socket.
//! The API contract allows missing and extra fields, but it fails closed on
//! the fields that decide the exit status: a `success` that is not a
//! boolean, or a count (`processed`, `errors`, `pendingRewards`,
//! `pendingCount`) that is not a whole number from 0 to 2^64 - 1, is a
//! protocol error rather than a silent "n/a". A count is judged from its
//! text as sent, exactly: `2.0`, `2e0` and `0.2e1` (what some serialisers
//! write) are 2, while `1e-400` is not a whole number however small it is,
//! and `1e20` is out of range. `null` is read as absent, which is what most
//! serialisers write for "no value".
//!
//! Only the fields the contract reads are parsed; the rest of the object is
//! checked to be JSON and otherwise ignored, however deeply it nests.
//!
//! A redirect's `Location` is split by hand, not by `http::Uri`: it is a
//! URI reference, which `Uri` reads as a host name (`login`) or refuses
//! (`../signin`), and server text, judged also where `Uri` refuses it (a
//! space, a `<`).

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::error::{Error, Route};
use crate::job::Job;
use crate::sanitize::{MAX_SERVER_TEXT, for_log};

/// The parts of an HTTP response that decide the outcome.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    /// The `Location` header of a redirect, as sent.
    pub location: Option<String>,
    /// The body, at most the read limit.
    pub body: Vec<u8>,
}

/// What a successful run reported. Fields the server left out are `None`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    pub processed: Option<u64>,
    pub errors: Option<u64>,
    /// The server's `message`, sanitised.
    pub message: Option<String>,
}

/// What the status request (`--pending`) reported: the count, and the
/// server's `message` if it sent one, sanitised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingReport {
    pub count: u64,
    pub message: Option<String>,
}

/// Classifies a response to the trigger request for the endpoint `url`.
pub fn classify(url: &str, response: &Response, max_item_errors: u64) -> Result<JobReport, Error> {
    match response.status {
        200..=299 => job_result(url.to_owned(), response, max_item_errors),
        _ => Err(not_success(url, response, Route::Job)),
    }
}

/// Classifies a response to the status request (`--pending`): the count of
/// decisions still pending, or an error; more than `max_pending` is a
/// backlog alarm, which still carries the count and the message.
pub fn classify_pending(
    url: &str,
    job: Job,
    response: &Response,
    max_pending: Option<u64>,
) -> Result<PendingReport, Error> {
    if !(200..=299).contains(&response.status) {
        return Err(not_success(url, response, Route::Status));
    }
    let field = job.pending_field();
    let object = Fields::parse(&response.body);
    let pending = match &object {
        Some(object) => count(url, response.status, object, field)?,
        None => None,
    };
    let Some(pending) = pending else {
        return Err(Error::BadResponse {
            url: url.to_owned(),
            what: format!("HTTP {} without a \"{field}\" count", response.status),
        });
    };
    let report = PendingReport {
        count: pending,
        message: object.as_ref().and_then(message),
    };
    match max_pending {
        Some(max) if pending > max => Err(Error::Backlog {
            pending,
            max,
            message: report.message,
        }),
        _ => Ok(report),
    }
}

/// The error for any status outside 2xx on `route`.
fn not_success(url: &str, response: &Response, route: Route) -> Error {
    let url = url.to_owned();
    let status = response.status;
    match status {
        300..=399 => match response.location.as_deref() {
            Some(location) if is_sign_in(location) => Error::SignIn {
                url,
                status,
                location: for_log(location, 200),
                route,
            },
            location => Error::Redirect {
                url,
                status,
                location: location
                    .map_or("nowhere (no Location header)".into(), |l| for_log(l, 200)),
                route,
            },
        },
        401 | 403 => Error::Auth {
            url,
            status,
            detail: server_detail(&response.body),
            route,
        },
        _ => Error::Http {
            url,
            status,
            detail: server_detail(&response.body),
            route,
        },
    }
}

/// Whether a redirect's `Location` is a sign-in page: a path segment such
/// as `login` or `signin` (NextAuth's `/api/auth/signin` included), or the
/// `callbackUrl` that NextAuth and Next.js middleware add. A redirect to
/// the same path elsewhere (http → https, another host) is not one.
fn is_sign_in(location: &str) -> bool {
    const PAGES: &[&str] = &["login", "log-in", "logon", "signin", "sign-in", "sign_in"];
    let lower = location.to_ascii_lowercase();
    let (path, query) = lower.split_once('?').unwrap_or((&lower, ""));
    let path = path.split('#').next().unwrap_or_default();
    // Skip `scheme://host` so a host named `login.example.com` is not a page.
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => path,
    };
    path.split('/').any(|segment| PAGES.contains(&segment))
        || query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("callbackurl"))
}

fn job_result(url: String, response: &Response, max_item_errors: u64) -> Result<JobReport, Error> {
    let Some(object) = Fields::parse(&response.body) else {
        let start = for_log(&String::from_utf8_lossy(&response.body), 80);
        let what = if start.is_empty() {
            format!("HTTP {} with an empty body", response.status)
        } else {
            format!(
                "HTTP {} with a body that is not a JSON object ({start})",
                response.status
            )
        };
        return Err(Error::BadResponse { url, what });
    };
    let status = response.status;
    let success = match object.known("success") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(value) => {
            return Err(contract_error(
                &url,
                status,
                "success",
                value,
                "which is not true or false",
            ));
        }
    };
    let report = JobReport {
        processed: count(&url, status, &object, "processed")?,
        errors: count(&url, status, &object, "errors")?,
        message: message(&object),
    };
    let counts = format!(
        "processed {}, errors {}",
        show(report.processed),
        show(report.errors)
    );
    if success == Some(false) {
        return Err(Error::JobFailed {
            reason: format!(
                "the server reported success: false{} ({counts}, HTTP {})",
                error_fields(&object),
                response.status
            ),
            processed: report.processed,
            errors: report.errors,
            message: report.message,
        });
    }
    if let Some(errors) = report.errors
        && errors > max_item_errors
    {
        return Err(Error::JobFailed {
            reason: format!(
                "{errors} decisions failed inside the run, more than --max-item-errors {max_item_errors} ({counts}, HTTP {})",
                response.status
            ),
            processed: report.processed,
            errors: report.errors,
            message: report.message,
        });
    }
    Ok(report)
}

/// The top-level fields of a JSON object, each as sent. Only the fields the
/// contract reads are ever looked at: the JSON parser skips the rest
/// without a recursion limit, so an extra field nested hundreds of levels
/// deep does not make the answer unreadable. A later duplicate wins.
struct Fields(BTreeMap<String, Box<RawValue>>);

impl Fields {
    /// The body's fields, or `None` if it is not one JSON object.
    fn parse(body: &[u8]) -> Option<Fields> {
        serde_json::from_slice(body).ok().map(Fields)
    }

    /// The field `name` as sent (valid JSON); `null` counts as absent.
    fn known(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(|value| value.get().trim())
            .filter(|value| *value != "null")
    }

    /// The field `name` if it is a string.
    fn text(&self, name: &str) -> Option<String> {
        serde_json::from_str(self.known(name)?).ok()
    }
}

/// The server's `message`, sanitised, if it is a string.
fn message(object: &Fields) -> Option<String> {
    object.text("message").map(|m| for_log(&m, MAX_SERVER_TEXT))
}

/// The count `name`, if present: a whole number from 0 to 2^64 - 1,
/// written as an integer or as a number without a fraction.
fn count(url: &str, status: u16, object: &Fields, name: &str) -> Result<Option<u64>, Error> {
    let Some(value) = object.known(name) else {
        return Ok(None);
    };
    as_count(value).map(Some).ok_or_else(|| {
        contract_error(
            url,
            status,
            name,
            value,
            "which is not a count (a whole number, 0 or more)",
        )
    })
}

/// A JSON value, as written, that is a number equal to a whole number in
/// `u64`'s range, decided on the decimal digits rather than on a float
/// (which turns `1e-400` into 0 and `1e19 + 1` into `1e19`). Zero however
/// written (`-0`, `0e99`) is 0.
fn as_count(text: &str) -> Option<u64> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((_, "")) => return None,
        Some(parts) => parts,
        None => (mantissa, ""),
    };
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return None;
    }
    // The number is `digits` times ten to the power `scale`.
    let mut scale = match exponent {
        Some(exponent) => decimal_exponent(exponent)?,
        None => 0,
    };
    scale = scale.saturating_sub(fraction.len() as i64);
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    if negative {
        return None;
    }
    let significant = digits.trim_end_matches('0');
    scale = scale.saturating_add((digits.len() - significant.len()) as i64);
    // A fraction is left, or more than u64's 20 digits.
    if scale < 0 || scale.saturating_add(significant.len() as i64) > 20 {
        return None;
    }
    let mut value: u64 = significant.parse().ok()?;
    for _ in 0..scale {
        value = value.checked_mul(10)?;
    }
    Some(value)
}

/// An exponent's text (`5`, `+5`, `-400`), saturated far beyond any count.
fn decimal_exponent(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |n, b| {
        n.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Some(sign * magnitude)
}

/// `value` is the field as sent.
fn contract_error(url: &str, status: u16, name: &str, value: &str, why: &str) -> Error {
    Error::Contract {
        url: url.to_owned(),
        what: format!(
            "HTTP {status} with \"{name}\": {}, {why}",
            for_log(value, 40)
        ),
    }
}

/// A count for log lines: the number, or `n/a` when the server left it out.
pub fn show(count: Option<u64>) -> String {
    count.map_or_else(|| "n/a".into(), |n| n.to_string())
}

/// The server's explanation of a failure, ready to append to a message:
/// `": error (details)"` from a JSON body, `": text"` from anything else,
/// empty when there is nothing to say.
fn server_detail(body: &[u8]) -> String {
    if let Some(object) = Fields::parse(body) {
        return error_fields(&object);
    }
    let text = for_log(&String::from_utf8_lossy(body), MAX_SERVER_TEXT);
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// `": error: message (details)"` from the API's explanation fields, each
/// only if present (`message` only if it does not repeat `error`), or empty.
fn error_fields(object: &Fields) -> String {
    let field = |name: &str| {
        object
            .text(name)
            .map(|s| for_log(&s, MAX_SERVER_TEXT))
            .filter(|s| !s.is_empty())
    };
    let error = field("error");
    let message = field("message").filter(|m| Some(m) != error.as_ref());
    let mut text: String = error
        .iter()
        .chain(&message)
        .map(|s| format!(": {s}"))
        .collect();
    match (text.is_empty(), field("details")) {
        (true, Some(d)) => text = format!(": {d}"),
        (false, Some(d)) => text.push_str(&format!(" ({d})")),
        (_, None) => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://h/api/training/calculate-pending";

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            location: None,
            body: body.as_bytes().to_vec(),
        }
    }

    fn code(status: u16, body: &str) -> u8 {
        match classify(URL, &response(status, body), 0) {
            Ok(_) => 0,
            Err(e) => e.exit_code(),
        }
    }

    #[test]
    fn the_contract_responses() {
        let ok = classify(
            URL,
            &response(
                200,
                r#"{"success": true, "processed": 42, "errors": 0, "message": "Processed 42 decisions, 0 errors"}"#,
            ),
            0,
        )
        .unwrap();
        assert_eq!(
            ok,
            JobReport {
                processed: Some(42),
                errors: Some(0),
                message: Some("Processed 42 decisions, 0 errors".into())
            }
        );
        assert_eq!(
            code(200, r#"{"success": true, "processed": 7, "errors": 1}"#),
            1
        );
        assert_eq!(code(401, r#"{"error": "Unauthorized"}"#), 77);
        assert_eq!(
            code(
                500,
                r#"{"error": "Failed to calculate pending rewards", "details": "Error: db"}"#
            ),
            70
        );
    }

    #[test]
    fn missing_and_extra_fields_are_fine() {
        assert_eq!(code(200, "{}"), 0);
        assert_eq!(code(200, r#"{"extra": [1,2], "message": 5}"#), 0);
        assert_eq!(
            code(
                200,
                r#"{"success": null, "processed": null, "errors": null}"#
            ),
            0
        );
        assert_eq!(code(204, ""), 76);
    }

    #[test]
    fn contract_fields_of_the_wrong_type_fail_closed() {
        for (body, field) in [
            (r#"{"success": true, "errors": "5"}"#, r#""errors": "5""#),
            (r#"{"success": true, "errors": -3}"#, r#""errors": -3"#),
            (r#"{"success": true, "errors": 2.5}"#, r#""errors": 2.5"#),
            (
                r#"{"success": true, "errors": 123456789012345678901234567890}"#,
                r#""errors": 123456789012345678901234567890"#,
            ),
            (
                r#"{"errors": 18446744073709551616.0}"#,
                r#""errors": 18446744073709551616.0"#,
            ),
            (r#"{"errors": -0.5}"#, r#""errors": -0.5"#),
            (r#"{"errors": [1]}"#, r#""errors": [1]"#),
            (r#"{"errors": true}"#, r#""errors": true"#),
            (r#"{"processed": "lots"}"#, r#""processed": "lots""#),
            (r#"{"processed": {"n": 1}}"#, r#""processed": {"n": 1}"#),
            (r#"{"success": "false"}"#, r#""success": "false""#),
            (r#"{"success": 0, "processed": 1}"#, r#""success": 0"#),
            (r#"{"success": false, "errors": "5"}"#, r#""errors": "5""#),
        ] {
            let err = classify(URL, &response(200, body), u64::MAX).unwrap_err();
            assert_eq!(err.exit_code(), 76, "{body}");
            let text = err.to_string();
            assert!(
                text.contains(&format!("HTTP 200 with {field}, which is not")),
                "{body}: {text}"
            );
        }
    }

    #[test]
    fn whole_number_floats_are_counts() {
        let ok = classify(
            URL,
            &response(200, r#"{"processed": 2.0, "errors": 0.0}"#),
            0,
        )
        .unwrap();
        assert_eq!((ok.processed, ok.errors), (Some(2), Some(0)));
        let big = classify(
            URL,
            &response(
                200,
                r#"{"processed": 1e19, "errors": 18446744073709551615}"#,
            ),
            u64::MAX,
        )
        .unwrap();
        assert_eq!(big.processed, Some(10_000_000_000_000_000_000));
        assert_eq!(big.errors, Some(u64::MAX));
        assert_eq!(
            as_count("18446744073709549568.0"),
            Some(18_446_744_073_709_549_568)
        );
        assert_eq!(code(200, r#"{"errors": 1.0}"#), 1);
    }

    #[test]
    fn counts_are_judged_on_their_digits_not_on_a_float() {
        for (text, count) in [
            ("7", 7),
            ("7.0", 7),
            ("7.000e0", 7),
            ("7E+0", 7),
            ("0.7e1", 7),
            ("70e-1", 7),
            ("700000e-5", 7),
            ("0", 0),
            ("-0", 0),
            ("-0.0e5", 0),
            ("0e-99999999999999999999999", 0),
            ("0.000", 0),
            ("18446744073709551615", u64::MAX),
            ("1.8446744073709551615e19", u64::MAX),
            ("184467440737095516150e-1", u64::MAX),
            ("1e19", 10_000_000_000_000_000_000),
        ] {
            assert_eq!(as_count(text), Some(count), "{text}");
        }
        for text in [
            // Fractions a float would round away.
            "1e-400",
            "1E-400",
            "5e-324",
            "0.5e-300",
            "1.0000000000000000001",
            "9007199254740993.5",
            "7.5",
            "75e-1",
            "1e-99999999999999999999999",
            // Out of range.
            "18446744073709551616",
            "18446744073709551616.0",
            "1.8446744073709551616e19",
            "1e20",
            "1e99999999999999999999999",
            "-1",
            "-0.5",
            "-1e-400",
            // Not numbers.
            "\"5\"",
            "true",
            "[1]",
            "{}",
            "",
            ".5",
            ".0",
            "-.0",
            "+5",
            "+5.0",
            "5.",
            "1e",
            "1e+",
            "0x10",
        ] {
            assert_eq!(as_count(text), None, "{text}");
        }
        // As the server sends them.
        assert_eq!(code(200, r#"{"errors": 1e-400}"#), 76);
        assert_eq!(code(200, r#"{"processed": 1.0000000000000000001}"#), 76);
        assert_eq!(code(200, r#"{"processed": 42e0, "errors": 0.0e9}"#), 0);
    }

    #[test]
    fn what_the_contract_does_not_read_may_nest_at_any_depth() {
        let deep = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        for depth in [127, 128, 129, 300, 2000] {
            let body = format!(
                r#"{{"success": true, "extra": {}, "processed": 3, "errors": 0}}"#,
                deep(depth)
            );
            let report = classify(URL, &response(200, &body), 0).unwrap();
            assert_eq!(report.processed, Some(3), "depth {depth}");
            let pending = format!(r#"{{"meta": {{"a": {}}}, "pendingCount": 4}}"#, deep(depth));
            let ok = response(200, &pending);
            assert_eq!(
                classify_pending(URL, Job::Outcomes, &ok, None)
                    .unwrap()
                    .count,
                4
            );
        }
        // A contract field nested that deep is named, like any wrong type.
        let body = format!(r#"{{"processed": {}}}"#, deep(300));
        let err = classify(URL, &response(200, &body), 0).unwrap_err();
        assert!(
            err.to_string().contains(r#"with "processed": [[[["#),
            "{err}"
        );
        // A deep server message on an error page is still no reason to
        // hide the rest.
        let page = format!(r#"{{"error": "busy", "details": {}}}"#, deep(300));
        let err = classify(URL, &response(503, &page), 0).unwrap_err();
        assert!(err.to_string().contains(": busy"), "{err}");
        // Only what is not JSON at all is called so.
        for bad in ["{\"success\": true", "[1]", "{\"a\": [}"] {
            let err = classify(URL, &response(200, bad), 0).unwrap_err();
            assert!(err.to_string().contains("not a JSON object"), "{err}");
        }
    }

    #[test]
    fn pending_counts_of_the_wrong_type_fail_closed() {
        for body in [
            r#"{"pendingRewards": "42"}"#,
            r#"{"pendingRewards": -1}"#,
            r#"{"pendingRewards": 4.5}"#,
            r#"{"pendingRewards": 1e30}"#,
        ] {
            let err = classify_pending(URL, Job::Rewards, &response(200, body), None).unwrap_err();
            assert_eq!(err.exit_code(), 76, "{body}");
            assert!(err.to_string().contains("\"pendingRewards\""), "{err}");
        }
        let ok = response(200, r#"{"pendingCount": 3.0}"#);
        assert_eq!(
            classify_pending(URL, Job::Outcomes, &ok, None)
                .unwrap()
                .count,
            3
        );
        let null = response(200, r#"{"pendingCount": null}"#);
        let err = classify_pending(URL, Job::Outcomes, &null, None).unwrap_err();
        assert!(
            err.to_string().contains("without a \"pendingCount\" count"),
            "{err}"
        );
    }

    #[test]
    fn item_errors_up_to_the_limit_pass() {
        let r = response(200, r#"{"processed": 7, "errors": 2}"#);
        assert!(classify(URL, &r, 2).is_ok());
        let err = classify(URL, &r, 1).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("more than --max-item-errors 1"));
    }

    #[test]
    fn success_false_fails_with_the_server_error() {
        let err = classify(
            URL,
            &response(200, r#"{"success": false, "error": "boom"}"#),
            0,
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.to_string().contains("success: false: boom"), "{err}");
    }

    #[test]
    fn success_false_shows_the_server_message() {
        let err = classify(
            URL,
            &response(
                200,
                r#"{"success": false, "message": "Job disabled by operator"}"#,
            ),
            0,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "job failed: the server reported success: false: Job disabled by operator (processed n/a, errors n/a, HTTP 200)"
        );
        let Error::JobFailed { message, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(message.as_deref(), Some("Job disabled by operator"));
    }

    #[test]
    fn explanation_fields_combine() {
        let fields = |body: &str| error_fields(&Fields::parse(body.as_bytes()).unwrap());
        assert_eq!(
            fields(r#"{"error":"e","message":"m","details":"d"}"#),
            ": e: m (d)"
        );
        assert_eq!(fields(r#"{"error":"e","message":"e"}"#), ": e");
        assert_eq!(fields(r#"{"message":"m"}"#), ": m");
        assert_eq!(fields(r#"{"message":"m","details":"d"}"#), ": m (d)");
        assert_eq!(fields(r#"{"details":"d"}"#), ": d");
        assert_eq!(fields(r#"{"error":"","message":7}"#), "");
    }

    #[test]
    fn a_redirect_to_a_sign_in_page_is_about_the_key() {
        for location in [
            "/login?callbackUrl=%2Fapi%2Ftraining%2Fcalculate-pending",
            "https://app.example.com/api/auth/signin?callbackUrl=x",
            "/en/Sign-In",
            "/?callbackUrl=/api",
        ] {
            let r = Response {
                status: 307,
                location: Some(location.into()),
                body: vec![],
            };
            let err = classify(URL, &r, 0).unwrap_err();
            assert_eq!(err.exit_code(), 77, "{location}");
            assert!(
                err.to_string().contains(&format!(
                    "redirecting to the sign-in page {location}: the app's authentication did not accept the API key; check that INTERNAL_API_KEY matches"
                )),
                "{err}"
            );
        }
        for location in [
            "https://h/api/training/calculate-pending",
            "https://login.example.com/api/training/calculate-pending",
            "/blogin/x?next=/login",
        ] {
            assert!(!is_sign_in(location), "{location}");
        }
        let pending = Response {
            status: 302,
            location: Some("/login".into()),
            body: vec![],
        };
        let err = classify_pending(URL, Job::Rewards, &pending, None).unwrap_err();
        assert!(
            err.to_string().contains("GET route accepts the key"),
            "{err}"
        );
    }

    #[test]
    fn status_route_failures_are_not_job_failures() {
        let get = |status, body| {
            classify_pending(URL, Job::Rewards, &response(status, body), None)
                .unwrap_err()
                .to_string()
        };
        assert!(get(405, "").ends_with("no GET handler on the job's route, so --pending cannot ask it for the count (running the job uses POST and is not affected)"));
        let failed = get(500, r#"{"error":"db down"}"#);
        assert!(
            failed.contains(
                "HTTP 500: db down; the status check failed on the server (no job was run)"
            ),
            "{failed}"
        );
        assert!(!failed.contains("job failed"), "{failed}");
        assert!(
            classify(URL, &response(405, ""), 0)
                .unwrap_err()
                .to_string()
                .contains("check --base-url")
        );
    }

    #[test]
    fn non_object_2xx_bodies_are_protocol_errors() {
        for body in ["", "[]", "42", "\"ok\"", "<html>ok</html>", "{\"a\":"] {
            assert_eq!(code(200, body), 76, "{body:?}");
        }
    }

    #[test]
    fn statuses_map_to_codes() {
        assert_eq!(code(301, ""), 76);
        assert_eq!(code(307, ""), 76);
        assert_eq!(code(403, ""), 77);
        assert_eq!(code(400, "{}"), 76);
        assert_eq!(code(404, "not found"), 76);
        assert_eq!(code(429, ""), 75);
        assert_eq!(code(502, "<html>bad gateway</html>"), 69);
        assert_eq!(code(505, ""), 70);
    }

    #[test]
    fn server_text_is_sanitised() {
        let err = classify(
            URL,
            &response(
                500,
                "{\"error\": \"a\\u001b[2J\\r\\nFAKE LINE\", \"details\": \"x\"}",
            ),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            !err.contains('\x1b') && !err.contains('\n') && !err.contains('\r'),
            "{err}"
        );
        assert!(err.contains("FAKE LINE (x)"), "{err}");
    }

    #[test]
    fn pending_counts_and_limits() {
        let rewards = response(
            200,
            r#"{"pendingRewards": 42, "message": "42 decisions are ready"}"#,
        );
        let reported = PendingReport {
            count: 42,
            message: Some("42 decisions are ready".into()),
        };
        assert_eq!(
            classify_pending(URL, Job::Rewards, &rewards, None).unwrap(),
            reported
        );
        assert_eq!(
            classify_pending(URL, Job::Rewards, &rewards, Some(42)).unwrap(),
            reported
        );
        let over = classify_pending(URL, Job::Rewards, &rewards, Some(10)).unwrap_err();
        assert_eq!(over.exit_code(), 1);
        assert_eq!(
            over.to_string(),
            "backlog check: 42 decisions pending, more than --max-pending 10"
        );
        // Over the limit, the count and the message are still what the
        // server said: `n=$(ocd-cron --pending --max-pending 5)` needs them.
        assert!(
            matches!(&over, Error::Backlog { pending: 42, max: 10, message }
                if *message == reported.message),
            "{over:?}"
        );
        let outcomes = response(200, r#"{"pendingCount": 3, "message": 7}"#);
        assert_eq!(
            classify_pending(URL, Job::Outcomes, &outcomes, None).unwrap(),
            PendingReport {
                count: 3,
                message: None
            }
        );
        let wrong_field = classify_pending(URL, Job::Outcomes, &rewards, None).unwrap_err();
        assert_eq!(wrong_field.exit_code(), 76);
        let refused = classify_pending(
            URL,
            Job::Rewards,
            &response(401, r#"{"error":"Unauthorized"}"#),
            None,
        )
        .unwrap_err();
        assert_eq!(refused.exit_code(), 77);
        assert!(
            refused.to_string().contains("GET route accepts the key"),
            "{refused}"
        );
    }

    #[test]
    fn redirect_names_the_target() {
        let r = Response {
            status: 302,
            location: Some("https://elsewhere/x".into()),
            body: vec![],
        };
        let err = classify(URL, &r, 0).unwrap_err();
        assert_eq!(err.exit_code(), 76);
        assert!(
            err.to_string()
                .contains("redirecting to https://elsewhere/x")
        );
    }

    mod property {
        use super::*;
        use crate::error::EXIT_STATUS_TABLE;
        use proptest::prelude::*;

        proptest! {
            /// Whatever a server sends, the classifier answers with a
            /// documented outcome and never panics.
            #[test]
            fn any_status_and_body_gives_a_documented_code(
                status in 100u16..1000,
                body in proptest::collection::vec(any::<u8>(), 0..512),
                location in proptest::option::of(".*"),
                max_item_errors in any::<u64>(),
            ) {
                let response = Response { status, location, body };
                let code = match classify(URL, &response, max_item_errors) {
                    Ok(_) => 0,
                    Err(e) => {
                        let text = e.to_string();
                        prop_assert!(!text.contains('\n') && !text.contains('\r') && !text.contains('\x1b'));
                        e.exit_code()
                    }
                };
                prop_assert!(EXIT_STATUS_TABLE.iter().any(|(c, _)| *c == code));
                if !(200..300).contains(&status) {
                    prop_assert_ne!(code, 0);
                }
            }

            /// The status request's classifier also answers anything.
            #[test]
            fn any_pending_answer_gives_a_documented_code(
                status in 100u16..1000,
                body in proptest::collection::vec(any::<u8>(), 0..512),
                json in r#"\{"(pendingRewards|pendingCount)": ?(-?[0-9]{1,30}(\.[0-9]{0,3})?(e[0-9]{1,3})?|null|"[0-9]*"|true)\}"#,
                max in proptest::option::of(any::<u64>()),
            ) {
                for body in [body, json.into_bytes()] {
                    for job in [Job::Rewards, Job::Outcomes] {
                        let response = Response { status, location: None, body: body.clone() };
                        let code = classify_pending(URL, job, &response, max).map_or_else(|e| e.exit_code(), |_| 0);
                        prop_assert!(EXIT_STATUS_TABLE.iter().any(|(c, _)| *c == code));
                    }
                }
            }

            /// Any value in a contract field: a documented code, never a panic.
            #[test]
            fn any_contract_field_value_gives_a_documented_code(
                field in "(success|processed|errors)",
                value in r#"(-?[0-9]{1,30}(\.[0-9]{0,3})?(e-?[0-9]{1,3})?|null|true|false|"[^"\\]*"|\[\]|\{\})"#,
            ) {
                let body = format!(r#"{{"{field}": {value}}}"#);
                let response = Response { status: 200, location: None, body: body.into_bytes() };
                let code = classify(URL, &response, 0).map_or_else(|e| e.exit_code(), |_| 0);
                prop_assert!([0, 1, 76].contains(&code), "{}", code);
            }

            /// JSON objects with arbitrary counts classify by the contract.
            #[test]
            fn json_counts_decide_between_0_and_1(
                processed in any::<u64>(),
                errors in any::<u64>(),
                success in any::<bool>(),
                limit in any::<u64>(),
            ) {
                let body = format!(r#"{{"success":{success},"processed":{processed},"errors":{errors}}}"#);
                let response = Response { status: 200, location: None, body: body.into_bytes() };
                let code = classify(URL, &response, limit).map_or_else(|e| e.exit_code(), |_| 0);
                let expected = if success && errors <= limit { 0 } else { 1 };
                prop_assert_eq!(code, expected);
            }
        }
    }
}
