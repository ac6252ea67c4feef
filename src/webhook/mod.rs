//! Webhook deliveries without I/O: verify, parse, normalise and route them.
//!
//! [`parse_delivery`] turns a request's headers and raw body into a [`Delivery`] or a
//! [`Rejection`] that knows its HTTP answer (413, 400 or 401). It checks the size first,
//! then the HMAC signature or token over the raw bytes, then that the body is a JSON
//! object, then the event. Events from both dialects the platform uses are normalised to
//! one set of names ([`events`]), and a [`Router`] maps `"push"`, `"issues.opened"` or
//! `"*"` to handlers that receive a context of your choice.
//!
//! Nothing here does I/O or knows the API client, so all of it can be tested and fuzzed
//! as plain functions; the one exception is [`send`], which posts signed deliveries to a
//! bot the way the platform does (for `atombot send` and tests).
//!
//! # Example
//! ```
//! use atombot::webhook::{parse_delivery, sign, BoxError, Router, WebhookSettings};
//!
//! #[derive(Clone)]
//! struct Cx(atombot::webhook::Delivery);
//!
//! async fn on_push(cx: Cx) -> Result<(), BoxError> {
//!     let push: atombot::models::webhook::PushEvent = cx.0.payload()?;
//!     assert_eq!(push.git_ref, "refs/heads/main");
//!     Ok(())
//! }
//!
//! let settings = WebhookSettings::default().with_secret("s3cret");
//! let body = br#"{"ref":"refs/heads/main","repository":{"full_name":"acme/app"}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("x-atomgit-event", "push".parse().unwrap());
//! headers.insert("x-hub-signature-256", sign(b"s3cret", body).parse().unwrap());
//!
//! let delivery = parse_delivery(&headers, body.as_slice().into(), &settings).unwrap();
//! let router = Router::new().on("push", on_push);
//! let handlers = router.handlers_for(delivery.event(), delivery.action());
//! assert_eq!(handlers.len(), 1);
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! for handler in handlers {
//!     handler.call(Cx(delivery.clone())).await.unwrap();
//! }
//! # });
//! ```

mod delivery;
pub mod events;
mod gitlab;
mod probe;
mod rejection;
mod router;
pub mod send;
mod settings;
mod verify;

#[cfg(test)]
mod tests;

pub(crate) use delivery::Route;
#[doc(inline)]
pub use delivery::{Delivery, PayloadError, parse_delivery};
#[doc(inline)]
pub use events::Dialect;
#[doc(inline)]
pub use rejection::{
    BodyTimeout, InvalidJson, InvalidSignature, InvalidToken, MissingEvent, MissingSignature,
    NotAnObject, PayloadTooLarge, Rejection,
};
#[doc(inline)]
pub use router::{BoxError, Handler, HandlerFuture, NamedHandler, Router};
#[doc(inline)]
pub use settings::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CREDENTIAL_VALUES, WebhookSettings};
#[doc(hidden)]
pub use verify::hmac_computations;
#[doc(inline)]
pub use verify::{Authenticity, require_credentials, sign, verify};
