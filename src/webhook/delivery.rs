//! Headers + bytes → [`Delivery`]: size limit, authenticity, JSON, event, id.

use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::WebhookSettings;
use super::events::{self, Dialect};
use super::gitlab::str_at;
use super::probe::{Facts, probe};
use super::rejection::{InvalidJson, MissingEvent, NotAnObject, PayloadTooLarge, Rejection};
use super::verify::{Authenticity, verify};
use crate::error::Error;
use crate::models::InstallationId;
use crate::models::webhook::EventPayload;

/// One authenticated webhook delivery, with its event in canonical form.
///
/// Built by [`parse_delivery`]. Keeps the raw bytes, the fields routing needs, the parsed
/// body and (for GitLab-shaped bodies) a GitHub-shaped view used by [`Delivery::payload`].
/// A GitHub-shaped body is routed from a single validating pass over its bytes; its
/// [`json`](Delivery::json) tree is built on first use. `Debug` shows the metadata and the
/// body's length, not its content.
#[derive(Clone)]
pub struct Delivery {
    id: String,
    event: String,
    action: Option<String>,
    original_event: String,
    header_event: Option<String>,
    dialect: Dialect,
    authenticity: Authenticity,
    body: Bytes,
    /// The parsed body; built on first use when routing did not need it.
    json: OnceLock<Value>,
    /// The GitHub-shaped view, for bodies that need one (built on first use for a restored
    /// delivery).
    normalized: OnceLock<Option<Value>>,
    /// What routing reads, taken from the body once.
    facts: Facts,
}

/// A delivery's routing, kept with it in the queue: its canonical event and action, the
/// platform's name for the event, its dialect and the [`Facts`] read from its body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Route {
    event: String,
    action: Option<String>,
    original_event: String,
    gitlab: bool,
    facts: Facts,
}

/// A payload did not decode into the requested type; `json_path` names the bad field.
#[derive(Debug, thiserror::Error)]
#[error("could not decode the webhook payload at `{json_path}`: {source}")]
pub struct PayloadError {
    /// JSON path of the field that failed (`.` for the document itself).
    pub json_path: String,
    /// The underlying serde error.
    #[source]
    pub source: serde_json::Error,
}

impl From<PayloadError> for Error {
    /// [`Error::Payload`] with the same JSON path and serde error.
    fn from(error: PayloadError) -> Self {
        Error::Payload {
            json_path: error.json_path,
            source: error.source,
        }
    }
}

/// Turns a request's headers and raw body into a [`Delivery`], or says why not.
///
/// Checks, in this order: the body size ([`WebhookSettings::max_body_bytes`], 413), the
/// authenticity over the raw bytes ([`verify`](super::verify()), 400/401), that the body is
/// a JSON object (400), and that an event is named by a header or `object_kind` (400). The
/// event is then normalised (see [`events`](super::events)). The delivery id is the first
/// delivery header, else the body's `uuid`, else the SHA-256 hex of the body.
///
/// # Errors
/// A [`Rejection`] whose status and body say why; it never contains the secret or the body.
///
/// # Example
/// ```
/// use atombot::webhook::{parse_delivery, sign, WebhookSettings};
///
/// let settings = WebhookSettings::default().with_secret("s3cret");
/// let body = br#"{"action":"opened","repository":{"full_name":"acme/app"}}"#;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-atomgit-event", "issues".parse().unwrap());
/// headers.insert("x-hub-signature-256", sign(b"s3cret", body).parse().unwrap());
///
/// let delivery = parse_delivery(&headers, body.as_slice().into(), &settings).unwrap();
/// assert_eq!(delivery.event(), "issues");
/// assert_eq!(delivery.action(), Some("opened"));
/// assert_eq!(delivery.owner_path(), Some("acme"));
/// ```
pub fn parse_delivery(
    headers: &HeaderMap,
    body: Bytes,
    settings: &WebhookSettings,
) -> Result<Delivery, Rejection> {
    if body.len() > settings.max_body_bytes {
        return Err(PayloadTooLarge {
            limit: settings.max_body_bytes,
        }
        .into());
    }
    let authenticity = verify(headers, &body, settings)?;
    let header_event = first_header(headers, &settings.event_headers);
    let header_id = first_header(headers, &settings.delivery_headers);
    build(
        header_id,
        header_event,
        body,
        authenticity,
        &settings.event_headers,
    )
}

/// Parses and normalises an already verified body: routed from the probe when it is
/// GitHub-shaped, else through the DOM.
fn build(
    header_id: Option<&str>,
    header_event: Option<&str>,
    body: Bytes,
    authenticity: Authenticity,
    event_headers: &[String],
) -> Result<Delivery, Rejection> {
    let header = header_event.map(str::trim).filter(|h| !h.is_empty());
    let Some(mut facts) = probe(header, &body) else {
        return build_from_dom(header_id, header_event, body, authenticity, event_headers);
    };
    let header = header.unwrap_or_default().to_owned();
    // The delivery keeps these itself; its route carries only what restoring needs.
    let (action, uuid) = (facts.action.take(), facts.uuid.take());
    Ok(Delivery {
        id: delivery_id(header_id, uuid.as_deref(), &body),
        event: header.clone(),
        action,
        original_event: header.clone(),
        header_event: Some(header),
        dialect: Dialect::GitHub,
        authenticity,
        body,
        json: OnceLock::new(),
        normalized: OnceLock::from(None),
        facts,
    })
}

/// [`build`] through the DOM: parse, normalise, read the routing facts off the tree.
fn build_from_dom(
    header_id: Option<&str>,
    header_event: Option<&str>,
    body: Bytes,
    authenticity: Authenticity,
    event_headers: &[String],
) -> Result<Delivery, Rejection> {
    let json: Value = serde_json::from_slice(&body).map_err(|e| InvalidJson::from_serde(&e))?;
    if !json.is_object() {
        return Err(NotAnObject {
            found: json_type(&json),
        }
        .into());
    }

    let missing_event = || MissingEvent {
        expected: event_headers.to_vec(),
    };
    let normalized = events::normalize(header_event, &json).ok_or_else(missing_event)?;
    let original_event = header_event
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .or_else(|| str_at(&json, &["object_kind"]))
        .unwrap_or_default()
        .to_owned();

    let id = delivery_id(header_id, str_at(&json, &["uuid"]), &body);

    let facts = facts_of(&json, normalized.body.as_ref().unwrap_or(&json));
    Ok(Delivery {
        id,
        event: normalized.event,
        action: normalized.action,
        original_event,
        header_event: header_event
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned),
        dialect: normalized.dialect,
        authenticity,
        body,
        json: OnceLock::from(json),
        normalized: OnceLock::from(normalized.body),
        facts,
    })
}

/// The delivery id: the first delivery header, else the body's non-empty `uuid`, else the
/// SHA-256 hex of the body.
fn delivery_id(header_id: Option<&str>, uuid: Option<&str>, body: &[u8]) -> String {
    header_id
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .or_else(|| uuid.filter(|u| !u.is_empty()))
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(Sha256::digest(body)))
}

/// The routing facts of a parsed body `json` whose GitHub-shaped view is `normalized`.
pub(super) fn facts_of(json: &Value, normalized: &Value) -> Facts {
    let has_slash = |s: &&str| s.contains('/');
    let repository_full_name = str_at(normalized, &["repository", "full_name"])
        .filter(has_slash)
        .or_else(|| str_at(json, &["project", "path_with_namespace"]).filter(has_slash))
        .or_else(|| str_at(json, &["repository", "path_with_namespace"]).filter(has_slash));
    let owner_path = str_at(json, &["repository", "owner", "login"])
        .or_else(|| str_at(json, &["repository", "owner", "path"]))
        .filter(|s| !s.is_empty())
        .or_else(|| repository_full_name.and_then(|f| f.split('/').next()))
        .or_else(|| str_at(json, &["installation", "account", "login"]))
        .or_else(|| str_at(json, &["installation", "account", "path"]))
        .filter(|s| !s.is_empty());
    let installation_id = json
        .get("installation")
        .and_then(|i| i.get("id"))
        .and_then(|id| match id {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .filter(|id| *id != 0)
        .map(InstallationId);
    Facts {
        action: None,
        uuid: None,
        git_ref: str_at(json, &["ref"]).map(str::to_owned),
        installation_id,
        repository_full_name: repository_full_name.map(str::to_owned),
        owner_path: owner_path.map(str::to_owned),
    }
}

/// The first header among `names` that is present, non-empty and visible ASCII.
fn first_header<'h>(headers: &'h HeaderMap, names: &[String]) -> Option<&'h str> {
    names
        .iter()
        .filter_map(|name| headers.get(name.as_str()))
        .filter_map(|v| v.to_str().ok())
        .find(|v| !v.trim().is_empty())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Delivery {
    /// Rebuilds a delivery the receiver verified and queued, from its id, the event header
    /// it came with (if any) and its raw body. Nothing is verified again.
    ///
    /// # Errors
    /// A [`Rejection`] if the body is not a JSON object naming an event (it was when queued,
    /// unless the stored body was altered).
    pub fn restore(id: &str, header_event: Option<&str>, body: Bytes) -> Result<Self, Rejection> {
        build(Some(id), header_event, body, Authenticity::Queued, &[])
    }

    /// Rebuilds a delivery from its body and the [`Route`] taken when it was received,
    /// without reading the body (it is parsed when a handler asks for it).
    pub(crate) fn restore_routed(
        id: &str,
        header_event: Option<&str>,
        body: Bytes,
        route: Route,
    ) -> Self {
        Delivery {
            id: id.to_owned(),
            event: route.event,
            action: route.action,
            original_event: route.original_event,
            header_event: header_event.map(str::to_owned),
            dialect: if route.gitlab {
                Dialect::GitLab
            } else {
                Dialect::GitHub
            },
            authenticity: Authenticity::Queued,
            body,
            json: OnceLock::new(),
            normalized: OnceLock::new(),
            facts: route.facts,
        }
    }

    /// What [`restore_routed`](Self::restore_routed) needs besides the body.
    pub(crate) fn route(&self) -> Route {
        Route {
            event: self.event.clone(),
            action: self.action.clone(),
            original_event: self.original_event.clone(),
            gitlab: self.dialect == Dialect::GitLab,
            facts: self.facts.clone(),
        }
    }

    /// The event header value the delivery came with, if any (for [`restore`](Self::restore)).
    pub fn header_event(&self) -> Option<&str> {
        self.header_event.as_deref()
    }

    /// The delivery id (header, body `uuid`, or SHA-256 hex of the body); use it to dedupe.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The canonical event name (`pull_request`), see [`events`](super::events).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The canonical action (`opened`), if the event has one.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The event as the platform named it (`Merge Request Hook`, `tag_push`, `issues`).
    pub fn original_event(&self) -> &str {
        &self.original_event
    }

    /// Whether the body is GitHub- or GitLab-shaped.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// How the delivery proved its origin.
    pub fn authenticity(&self) -> &Authenticity {
        &self.authenticity
    }

    /// The raw body, exactly as received and verified.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The parsed body, untouched (built on first use for a GitHub-shaped body).
    ///
    /// `null` in the one case where the receiver accepted what serde_json's tree refuses:
    /// valid JSON nested deeper than 128 levels or holding a number beyond `f64`.
    pub fn json(&self) -> &Value {
        self.json.get_or_init(|| {
            serde_json::from_slice(&self.body).unwrap_or_else(|error| {
                tracing::warn!(delivery = %self.id, %error, "the delivery's body does not build a JSON tree");
                Value::Null
            })
        })
    }

    /// The GitHub-shaped view of the body (the body itself for GitHub-shaped deliveries).
    pub fn normalized_json(&self) -> &Value {
        self.normalized
            .get_or_init(|| match self.dialect {
                Dialect::GitHub => events::repository_from_project(self.json()),
                Dialect::GitLab => {
                    events::normalize(self.header_event(), self.json()).and_then(|n| n.body)
                }
            })
            .as_ref()
            .unwrap_or_else(|| self.json())
    }

    /// Whether this is a tag push (`Tag Push Hook` or `tag_push` in any case, or a push to
    /// `refs/tags/…`).
    pub fn is_tag_push(&self) -> bool {
        super::gitlab::snake(&self.original_event) == "tag_push"
            || (self.event == events::PUSH
                && (self.facts.git_ref.as_deref()).is_some_and(|r| r.starts_with("refs/tags/")))
    }

    /// Decodes the [normalised body](Self::normalized_json) into `T`.
    ///
    /// # Errors
    /// [`PayloadError`] naming the JSON path of the first field that does not fit `T`.
    ///
    /// # Example
    /// ```
    /// # fn f(delivery: &atombot::webhook::Delivery) -> Result<(), atombot::webhook::PayloadError> {
    /// use atombot::models::webhook::PushEvent;
    /// let push: PushEvent = delivery.payload()?;
    /// println!("{} pushed to {}", push.pusher.name, push.git_ref);
    /// # Ok(()) }
    /// ```
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, PayloadError> {
        serde_path_to_error::deserialize(self.normalized_json()).map_err(|e| PayloadError {
            json_path: e.path().to_string(),
            source: e.into_inner(),
        })
    }

    /// Decodes the normalised body into the [`EventPayload`] variant for [`event`](Self::event);
    /// events without a typed payload come back as [`EventPayload::Unknown`].
    ///
    /// # Errors
    /// [`PayloadError`] naming the JSON path of the first field that does not fit.
    pub fn typed_payload(&self) -> Result<EventPayload, PayloadError> {
        EventPayload::from_value(&self.event, self.normalized_json()).map_err(|e| PayloadError {
            json_path: e.path().to_string(),
            source: e.into_inner(),
        })
    }

    /// `installation.id`, given as a number or a numeric string; `None` when absent, zero
    /// or not a number.
    pub fn installation_id(&self) -> Option<InstallationId> {
        self.facts.installation_id
    }

    /// `owner/name` from `repository.full_name` of the [normalised body](Self::normalized_json)
    /// (which a `project`-only body gets from `project.path_with_namespace`), else
    /// `project.path_with_namespace` or `repository.path_with_namespace`.
    pub fn repository_full_name(&self) -> Option<&str> {
        self.facts.repository_full_name.as_deref()
    }

    /// The owner's path (login), to find the installation by `account.path`.
    ///
    /// From `repository.owner.login`, `repository.owner.path`, the first segment of
    /// [`repository_full_name`](Self::repository_full_name), or `installation.account`.
    pub fn owner_path(&self) -> Option<&str> {
        self.facts.owner_path.as_deref()
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("event", &self.event)
            .field("action", &self.action)
            .field("original_event", &self.original_event)
            .field("dialect", &self.dialect)
            .field("authenticity", &self.authenticity)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}
