//! Test kit for bot authors: [`TestBot`] to run a bot's handlers in a test, a local AtomGit
//! simulator on `127.0.0.1`, and webhook deliveries.
//!
//! Test a bot with [`TestBot`]: the same [`Bot`](crate::Bot) definition, run in-process
//! against a [`Simulator`]; [`TestBot::receive`] returns once the delivery's handlers have
//! finished, with their outcomes and the API calls they made. Build deliveries with
//! [`events`].
//!
//! Start a [`Simulator`], point an atombot client at [`Simulator::url`] with
//! [`Simulator::dev_private_key_pem`], and assert on what the simulator saw. Send your bot
//! signed webhook deliveries with [`Simulator::deliver`] or [`WebhookSender`], built from
//! the payloads in [`events`]; check a sender with [`WebhookReceiver`].

pub mod events;
mod receiver;
mod sim;
mod testbot;

// The signed sender lives in `webhook::send` (no simulator needed); re-exported here under
// the names tests already use.
#[doc(inline)]
pub use crate::webhook::send::{
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
#[doc(inline)]
pub use testbot::{
    Acceptance, HandlerRun, JobRun, Outcome, Receive, Received, TestBot, TestBotError,
};

#[cfg(test)]
mod tests;
