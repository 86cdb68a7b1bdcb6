//! Dead-man-switch pings in the healthchecks.io protocol: `GET <URL>/start`
//! before the job, `POST <URL>/<exit status>` after it with the summary as
//! body, both with `?rid=<invocation id>` so the service pairs them.
//!
//! Monitoring must never change the outcome it monitors: a ping gets a few
//! short attempts within its own small time limit, a failure is a warning,
//! and the exit status stays the job's. The ping request carries no API key;
//! it is a separate request to a separate host. The URL's path (the check's
//! secret id) is not printed.

use std::time::{Duration, Instant};

use crate::client::{self, Budget, HeaderValue, Method, Request, USER_AGENT};
use crate::config::Target;
use crate::error::{Error, Route};
use crate::outcome::Response;
use crate::sanitize::for_log;

/// Attempts per ping.
const ATTEMPTS: u32 = 3;
/// All attempts of one ping, waits included.
const TIME_LIMIT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The most of the summary a finish ping carries (healthchecks.io keeps 10 KB).
const MAX_BODY: usize = 10 * 1024;

/// Signals that the invocation has started.
pub fn start(target: &Target, invocation_id: &str) {
    send(target, Method::Get, "start", invocation_id, None);
}

/// Signals how the invocation ended, with the summary as the body.
pub fn finish(target: &Target, invocation_id: &str, exit_code: u8, summary: &str) {
    let body = cut(summary, MAX_BODY);
    send(
        target,
        Method::Post,
        &exit_code.to_string(),
        invocation_id,
        Some(body.to_owned()),
    );
}

fn send(target: &Target, method: Method, what: &str, invocation_id: &str, body: Option<String>) {
    let mut headers = vec![("user-agent", HeaderValue::Plain(USER_AGENT.into()))];
    if body.is_some() {
        headers.push((
            "content-type",
            HeaderValue::Plain("text/plain; charset=utf-8".into()),
        ));
    }
    let request = Request {
        label: "ping".into(),
        method,
        url: target.url(&format!("/{what}?rid={invocation_id}")),
        shown: format!("{}://{}/…/{what}", target.scheme, target.host),
        host: target.host.clone(),
        headers,
        body,
    };
    let budget = Budget {
        max_attempts: ATTEMPTS,
        deadline: Instant::now() + TIME_LIMIT,
        timeout: TIME_LIMIT,
        setting: "ping time limit",
    };
    let agent = client::agent(target, CONNECT_TIMEOUT, None);
    let result = client::send_with_retries(&agent, &request, &budget, |response| {
        accepted(&request, response)
    });
    match result.result {
        Ok(()) => log::debug!("ping: {} {} accepted", method.as_str(), request.shown),
        Err(error) => log::warn!("ping: {error}; the exit status is not affected"),
    }
}

/// Any 2xx is accepted; anything else is an error, retried if transient.
fn accepted(request: &Request<'_>, response: &Response) -> Result<(), Error> {
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let text = for_log(&String::from_utf8_lossy(&response.body), 200);
    Err(Error::Http {
        url: request.shown.clone(),
        status: response.status,
        detail: if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        },
        route: Route::Ping,
    })
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_characters() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("ééé", 3), "é");
        assert_eq!(cut(&"x".repeat(20_000), MAX_BODY).len(), MAX_BODY);
    }
}
