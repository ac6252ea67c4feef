//! The relay's memory: per channel, the latest deliveries with their sequence numbers,
//! bounded by count and age.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How much the relay keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Deliveries kept per channel; the oldest go first.
    pub(crate) max_deliveries: usize,
    /// Deliveries older than this are dropped.
    pub(crate) max_age: Duration,
    /// Channels at once; a channel with nothing kept and nobody listening is forgotten.
    pub(crate) max_channels: usize,
}

/// Every channel the relay knows.
#[derive(Debug)]
pub(crate) struct Store {
    limits: Limits,
    channels: Mutex<HashMap<String, Arc<Channel>>>,
}

/// The channel limit is reached and no channel can be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyChannels;

/// One channel: its kept deliveries and a signal that moves with each new one.
#[derive(Debug)]
pub(crate) struct Channel {
    limits: Limits,
    buffer: Mutex<Buffer>,
    latest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Buffer {
    /// Contiguous sequence numbers, oldest first.
    kept: VecDeque<Kept>,
    next_seq: u64,
}

/// A kept delivery, already in its wire form (the SSE `data` line).
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    /// Its sequence number on the channel (from 1).
    pub(crate) seq: u64,
    /// The JSON of a [`WireDelivery`](super::wire::WireDelivery).
    pub(crate) data: Arc<str>,
    at: Instant,
}

/// What [`Channel::read`] found after a sequence number.
#[derive(Debug)]
pub(crate) struct Read {
    /// How many deliveries after the one asked for were already pruned.
    pub(crate) missed: u64,
    /// The kept deliveries that follow, oldest first.
    pub(crate) items: Vec<Kept>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// An empty store.
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// The channel named `name`, created if new (forgetting idle channels to make room).
    pub(crate) fn channel(&self, name: &str) -> Result<Arc<Channel>, TooManyChannels> {
        let mut channels = lock(&self.channels);
        if let Some(channel) = channels.get(name) {
            return Ok(Arc::clone(channel));
        }
        if channels.len() >= self.limits.max_channels {
            channels.retain(|_, c| !c.is_idle());
            if channels.len() >= self.limits.max_channels {
                return Err(TooManyChannels);
            }
        }
        let channel = Arc::new(Channel {
            limits: self.limits,
            buffer: Mutex::new(Buffer {
                kept: VecDeque::new(),
                next_seq: 1,
            }),
            latest: watch::Sender::new(0),
        });
        channels.insert(name.to_owned(), Arc::clone(&channel));
        Ok(channel)
    }

    /// Drops deliveries past their age everywhere and forgets idle channels.
    pub(crate) fn sweep(&self) {
        lock(&self.channels).retain(|_, c| !c.is_idle());
    }
}

impl Channel {
    /// Keeps a delivery; `data` builds its wire form from its sequence number. Returns that
    /// number.
    pub(crate) fn push(&self, data: impl FnOnce(u64) -> String) -> u64 {
        let mut buffer = lock(&self.buffer);
        let seq = buffer.next_seq;
        buffer.next_seq += 1;
        buffer.kept.push_back(Kept {
            seq,
            data: data(seq).into(),
            at: Instant::now(),
        });
        self.prune(&mut buffer);
        drop(buffer);
        self.latest.send_replace(seq);
        seq
    }

    /// The latest sequence number given out (0 if none yet) and the number of the oldest
    /// delivery still kept (the next to be given out if none is kept).
    pub(crate) fn bounds(&self) -> (u64, u64) {
        let mut buffer = lock(&self.buffer);
        self.prune(&mut buffer);
        let oldest = buffer.kept.front().map_or(buffer.next_seq, |k| k.seq);
        (buffer.next_seq - 1, oldest)
    }

    /// Up to `max` kept deliveries after sequence number `after`, and how many that should
    /// have come first were pruned.
    pub(crate) fn read(&self, after: u64, max: usize) -> Read {
        let mut buffer = lock(&self.buffer);
        self.prune(&mut buffer);
        let oldest = buffer.kept.front().map_or(buffer.next_seq, |k| k.seq);
        let missed = oldest.saturating_sub(after.saturating_add(1));
        let skip =
            usize::try_from(after.saturating_add(1).saturating_sub(oldest)).unwrap_or(usize::MAX);
        let items = buffer.kept.iter().skip(skip).take(max).cloned().collect();
        Read { missed, items }
    }

    /// A receiver that changes whenever a delivery is kept.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Nothing kept (after pruning by age) and nobody listening.
    fn is_idle(&self) -> bool {
        let mut buffer = lock(&self.buffer);
        self.prune(&mut buffer);
        buffer.kept.is_empty() && self.latest.receiver_count() == 0
    }

    fn prune(&self, buffer: &mut Buffer) {
        while buffer.kept.len() > self.limits.max_deliveries {
            buffer.kept.pop_front();
        }
        let now = Instant::now();
        while buffer
            .kept
            .front()
            .is_some_and(|k| now.duration_since(k.at) > self.limits.max_age)
        {
            buffer.kept.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_deliveries: usize, max_channels: usize) -> Store {
        Store::new(Limits {
            max_deliveries,
            max_age: Duration::from_secs(3600),
            max_channels,
        })
    }

    fn seqs(read: &Read) -> Vec<u64> {
        read.items.iter().map(|k| k.seq).collect()
    }

    #[test]
    fn pruning_by_count_keeps_the_newest_and_reports_the_gap() {
        let channel = store(3, 4).channel("a").unwrap();
        for _ in 0..5 {
            channel.push(|seq| seq.to_string());
        }
        assert_eq!(channel.bounds(), (5, 3));
        let read = channel.read(0, 10);
        assert_eq!((read.missed, seqs(&read)), (2, vec![3, 4, 5]));
        let read = channel.read(3, 10);
        assert_eq!((read.missed, seqs(&read)), (0, vec![4, 5]));
        assert_eq!(&*read.items[0].data, "4");
        let read = channel.read(5, 10);
        assert_eq!((read.missed, seqs(&read)), (0, vec![]));
    }

    #[test]
    fn pruning_by_age() {
        let store = Store::new(Limits {
            max_deliveries: 10,
            max_age: Duration::ZERO,
            max_channels: 1,
        });
        let channel = store.channel("a").unwrap();
        channel.push(|_| String::new());
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(channel.bounds(), (1, 2));
        assert_eq!(channel.read(0, 10).missed, 1);
    }

    #[test]
    fn idle_channels_make_room_busy_ones_do_not() {
        let store = store(10, 1);
        let a = store.channel("a").unwrap();
        let listening = a.subscribe();
        assert_eq!(store.channel("b").unwrap_err(), TooManyChannels);
        drop(listening);
        a.push(|_| String::new());
        assert_eq!(store.channel("b").unwrap_err(), TooManyChannels);
        drop(a);
        // Still kept deliveries: "a" stays.
        assert!(store.channel("b").is_err());
        assert_eq!(store.channel("a").unwrap().bounds(), (1, 1));
    }
}
