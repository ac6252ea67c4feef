//! The install page, `GET /`: the app's name, its install link, health, version and counts.
//! With the admin token (`Authorization: Bearer …`, [`env::ADMIN_TOKEN`]) it also lists
//! the installations with their last delivery and failure count.
//!
//! Served only when the bot's own routes (those given to [`Bot::merge`]) do not answer `/`.
//! Everything shown is HTML-escaped; no secret, token or per-installation data is shown
//! without the admin token.
//!
//! [`env::ADMIN_TOKEN`]: crate::config::env::ADMIN_TOKEN
//! [`Bot::merge`]: super::Bot::merge

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::lifecycle::Lifecycle;
use super::metrics::Metrics;
use crate::config::AppConfig;
use crate::jobs::Queue;

/// How long a listing of the installations is shown before it is listed again.
const LISTING_MAX_AGE: Duration = Duration::from_secs(60);

/// What the page reads.
pub(crate) struct InstallPage {
    name: String,
    install_url: Option<String>,
    admin_token: Option<SecretString>,
    lifecycle: Arc<Lifecycle>,
    metrics: Metrics,
    queue: Queue,
    /// The delivery log, for the admin's table of recent deliveries.
    pub(crate) log: Option<crate::deliveries::DeliveryLog>,
}

/// Deliveries the admin page lists.
const RECENT_DELIVERIES: usize = 20;

impl std::fmt::Debug for InstallPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallPage")
            .field("name", &self.name)
            .field("install_url", &self.install_url)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Viewer {
    Public,
    Admin,
    /// Presented a bearer token that is not the admin token.
    Refused,
}

impl InstallPage {
    pub(crate) fn new(
        config: &AppConfig,
        lifecycle: Arc<Lifecycle>,
        metrics: Metrics,
        queue: Queue,
    ) -> Self {
        Self {
            name: config
                .app_slug()
                .map_or_else(|| format!("App {}", config.app_id()), str::to_owned),
            install_url: config.install_url(),
            admin_token: config.admin_token().cloned(),
            lifecycle,
            metrics,
            queue,
            log: None,
        }
    }

    fn viewer(&self, headers: &HeaderMap) -> Viewer {
        let Some(expected) = &self.admin_token else {
            return Viewer::Public;
        };
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Viewer::Public;
        };
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or("");
        // Hashing first makes the comparison constant-time whatever the lengths.
        let a = Sha256::digest(presented.as_bytes());
        let b = Sha256::digest(expected.expose_secret().as_bytes());
        if bool::from(a.ct_eq(&b)) {
            Viewer::Admin
        } else {
            Viewer::Refused
        }
    }

    async fn render(&self, admin: bool) -> String {
        let healthy = self.queue.ping().await.is_ok();
        let listing = self.lifecycle.resolver.listing(LISTING_MAX_AGE).await;
        let listing = listing.map(|all| {
            all.into_iter()
                .filter(|i| !self.lifecycle.is_removed(i.id))
                .collect::<Vec<_>>()
        });
        if let Err(error) = &listing {
            tracing::warn!(%error, "install page: could not list the installations");
        }
        let name = escape(&self.name);
        let mut html = String::with_capacity(2048);
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{name}</title></head><body>\n<h1>{name}</h1>\n"
        );
        match &self.install_url {
            Some(url) => {
                let _ = writeln!(
                    html,
                    "<p><a id=\"install\" href=\"{}\">Install {name}</a></p>",
                    escape(url)
                );
            }
            None => html.push_str(
                "<p id=\"install\">No install link: set ATOMGIT_APP_SLUG to the app's slug.</p>\n",
            ),
        }
        let installations = match &listing {
            Ok(list) => list.len().to_string(),
            Err(_) => "unavailable".to_owned(),
        };
        let _ = writeln!(
            html,
            "<dl>\n<dt>Health</dt><dd id=\"health\">{}</dd>\n\
             <dt>Version</dt><dd id=\"version\">{}</dd>\n\
             <dt>Installations</dt><dd id=\"installations\">{}</dd>\n\
             <dt>Deliveries</dt><dd id=\"deliveries\">{}</dd>\n</dl>",
            if healthy {
                "ok"
            } else {
                "degraded: the job queue is unavailable"
            },
            escape(env!("CARGO_PKG_VERSION")),
            escape(&installations),
            self.metrics.deliveries_accepted(),
        );
        if admin {
            html.push_str(
                "<table id=\"admin\">\n<tr><th>Installation</th><th>Account</th>\
                 <th>Last delivery</th><th>Failures</th></tr>\n",
            );
            for installation in listing.as_deref().unwrap_or_default() {
                let activity = self.lifecycle.activity(installation.id);
                let last = activity
                    .last_delivery
                    .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    installation.id,
                    escape(&installation.account.path),
                    escape(&last),
                    activity.failures,
                );
            }
            html.push_str("</table>\n");
            self.render_deliveries(&mut html).await;
        }
        html.push_str("</body></html>\n");
        html
    }
}

impl InstallPage {
    /// The admin's table of the newest deliveries in the delivery log, with each handler's
    /// outcome (`atombot deliveries show ID` has the rest).
    async fn render_deliveries(&self, html: &mut String) {
        let Some(log) = &self.log else { return };
        let filter = crate::deliveries::Filter::default().limit(RECENT_DELIVERIES);
        let recent = match log.list(&filter).await {
            Ok(recent) => recent,
            Err(error) => {
                tracing::warn!(%error, "install page: could not read the delivery log");
                html.push_str("<p id=\"deliveries-log\">The delivery log is unavailable.</p>\n");
                return;
            }
        };
        html.push_str(
            "<h2>Recent deliveries</h2>\n<table id=\"deliveries-log\">\n<tr><th>Delivery</th>\
             <th>Received</th><th>Event</th><th>Repository</th><th>Handlers</th></tr>\n",
        );
        for d in &recent {
            let event = match &d.action {
                Some(action) => format!("{}.{action}", d.event),
                None => d.event.clone(),
            };
            let handlers: Vec<String> = d
                .outcomes
                .iter()
                .map(|o| format!("{} {}", o.handler, o.status))
                .collect();
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&d.id),
                d.received_at.format("%Y-%m-%d %H:%M:%S"),
                escape(&event),
                escape(d.repository.as_deref().unwrap_or("-")),
                escape(&handlers.join(", ")),
            );
        }
        html.push_str("</table>\n");
    }
}

/// Serves the page for `GET /` (and `HEAD /`) when no other route answers it.
pub(crate) async fn serve_root(
    State(page): State<Arc<InstallPage>>,
    request: Request,
    next: Next,
) -> Response {
    let root = request.uri().path() == "/"
        && (request.method() == Method::GET || request.method() == Method::HEAD);
    if !root {
        return next.run(request).await;
    }
    let viewer = page.viewer(request.headers());
    let answer = next.run(request).await;
    if answer.status() != StatusCode::NOT_FOUND {
        return answer;
    }
    if viewer == Viewer::Refused {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "wrong admin token\n",
        )
            .into_response();
    }
    let html = page.render(viewer == Viewer::Admin).await;
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }
}
