//! Test kit for bot authors: a local AtomGit simulator on `127.0.0.1`, and webhook deliveries.
//!
//! Start a [`Simulator`], point an atombot client at [`Simulator::url`] with
//! [`Simulator::dev_private_key_pem`], and assert on what the simulator saw. Send your bot
//! signed webhook deliveries with [`Simulator::deliver`] or [`WebhookSender`], built from
//! the payloads in [`events`]; check a sender with [`WebhookReceiver`].

mod deliver;
pub mod events;
mod receiver;
mod sim;

#[doc(inline)]
pub use deliver::{
    DeliveryError, DeliveryOptions, DeliveryResponse, HeaderDialect, WebhookBody, WebhookSender,
    deliver, deliver_with, random_delivery_id,
};
#[doc(inline)]
pub use receiver::WebhookReceiver;
#[doc(inline)]
pub use sim::{
    AccountKind, DEFAULT_WEBHOOK_SECRET, Fault, RecordedRequest, Route, SentDelivery,
    SimInstallation, Simulator, SimulatorBuilder, TokenKind,
};

#[cfg(test)]
mod tests;
