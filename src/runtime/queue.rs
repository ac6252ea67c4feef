//! Where the receiver puts accepted deliveries: the [`DeliveryQueue`] interface and the
//! in-process bounded queue behind it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::webhook::Delivery;

/// A delivery the receiver accepted, waiting for its handlers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueuedDelivery {
    /// The verified, parsed delivery.
    pub delivery: Arc<Delivery>,
    /// When the receiver accepted it.
    pub received_at: DateTime<Utc>,
}

impl QueuedDelivery {
    /// Wraps a delivery received now.
    pub fn new(delivery: Delivery) -> Self {
        Self {
            delivery: Arc::new(delivery),
            received_at: Utc::now(),
        }
    }
}

/// Why a delivery could not be queued; the receiver answers 503 so the platform redelivers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError {
    /// The queue is at capacity.
    #[error("the delivery queue is full")]
    Full,
    /// The bot is shutting down.
    #[error("the bot is shutting down")]
    Closed,
    /// The queue's storage cannot take it.
    #[error("the delivery queue is unavailable: {0}")]
    Unavailable(String),
}

/// Accepts deliveries for background handling. The receiver answers 2xx only once
/// [`enqueue`](Self::enqueue) succeeded.
pub trait DeliveryQueue: Send + Sync + 'static {
    /// Queues a delivery, failing fast (never blocking) when it cannot be taken.
    fn enqueue(&self, delivery: QueuedDelivery) -> BoxFuture<'_, Result<(), EnqueueError>>;

    /// Deliveries waiting to be handled.
    fn depth(&self) -> usize;

    /// Whether the queue can take deliveries now (for `/readyz`).
    fn is_ready(&self) -> bool;
}

/// A bounded in-memory queue: fast, but what it holds is lost if the process dies.
#[derive(Debug, Clone)]
pub struct InProcessQueue {
    tx: mpsc::Sender<QueuedDelivery>,
    closed: Arc<AtomicBool>,
}

/// The consuming end of an [`InProcessQueue`].
#[derive(Debug)]
pub struct InProcessReceiver {
    rx: mpsc::Receiver<QueuedDelivery>,
    closed: Arc<AtomicBool>,
}

impl InProcessQueue {
    /// A queue holding at most `capacity` deliveries.
    pub fn new(capacity: usize) -> (Self, InProcessReceiver) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let closed = Arc::new(AtomicBool::new(false));
        (
            Self {
                tx,
                closed: closed.clone(),
            },
            InProcessReceiver { rx, closed },
        )
    }
}

impl DeliveryQueue for InProcessQueue {
    fn enqueue(&self, delivery: QueuedDelivery) -> BoxFuture<'_, Result<(), EnqueueError>> {
        let result = if self.closed.load(Ordering::Acquire) {
            Err(EnqueueError::Closed)
        } else {
            self.tx.try_send(delivery).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => EnqueueError::Full,
                mpsc::error::TrySendError::Closed(_) => EnqueueError::Closed,
            })
        };
        Box::pin(std::future::ready(result))
    }

    fn depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    fn is_ready(&self) -> bool {
        !self.closed.load(Ordering::Acquire) && !self.tx.is_closed()
    }
}

impl InProcessReceiver {
    /// The next delivery; `None` once closed and drained.
    pub async fn recv(&mut self) -> Option<QueuedDelivery> {
        self.rx.recv().await
    }

    /// Refuses new deliveries; those already queued are still returned by `recv`.
    pub fn close(&mut self) {
        self.closed.store(true, Ordering::Release);
        self.rx.close();
    }
}
