//! Counts of the server's traffic per second, for the admin UI's `aggregatedEvents` (the
//! package's `EventBuffer`: `rawConnection`, `rawDisconnection` with the reason, `packetsIn`,
//! `bytesIn`, `packetsOut`, `bytesOut`). Off until [`crate::admin::instrument`] turns it on
//! (`ServerConfig::traffic`); then each packet costs a short lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::engine::packet::Frame;

/// One aggregated event: `{timestamp, type, subType, count}` (the timestamp in ms, at the start
/// of its second).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
pub(crate) struct Aggregated {
    pub(crate) timestamp: u64,
    pub(crate) kind: &'static str,
    pub(crate) sub_kind: Option<&'static str>,
    pub(crate) count: u64,
}

/// A counter's key: the second (ms since the epoch), the kind and the sub-kind.
type Key = (u64, &'static str, Option<&'static str>);

/// The counts since the last [`Traffic::take`], by second, kind and sub-kind.
#[derive(Default)]
pub(crate) struct Traffic(Mutex<HashMap<Key, u64>>);

/// At most this many distinct counters are kept between two takes (a UI that never reads
/// them cannot grow memory without bound).
const MAX_KEYS: usize = 10_000;

impl Traffic {
    fn push(&self, kind: &'static str, sub_kind: Option<&'static str>, count: u64) {
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() * 1000)
            .unwrap_or(0);
        let mut counts = self.0.lock().unwrap();
        if counts.len() >= MAX_KEYS && !counts.contains_key(&(second, kind, sub_kind)) {
            return;
        }
        *counts.entry((second, kind, sub_kind)).or_default() += count;
    }

    /// A new Engine.IO connection.
    pub(crate) fn connection(&self) {
        self.push("rawConnection", None, 1);
    }

    /// An Engine.IO connection closed, for `reason`.
    pub(crate) fn disconnection(&self, reason: &'static str) {
        self.push("rawDisconnection", Some(reason), 1);
    }

    /// A message from a client (`bytes` long).
    pub(crate) fn received(&self, bytes: usize) {
        self.push("packetsIn", None, 1);
        self.push("bytesIn", None, bytes as u64);
    }

    /// A frame queued for a client: its messages and their bytes (without the Engine.IO type).
    pub(crate) fn sent(&self, frame: &Frame) {
        let (packets, bytes) = match frame {
            Frame::Text(t) => (1, t.len().saturating_sub(1)),
            Frame::Binary(b) => (1, b.len()),
            Frame::WithAttachments(t, atts) => (
                1 + atts.len(),
                t.len().saturating_sub(1) + atts.iter().map(|a| a.len()).sum::<usize>(),
            ),
        };
        self.push("packetsOut", None, packets as u64);
        self.push("bytesOut", None, bytes as u64);
    }

    /// The counts so far, oldest second first; the counters start again from zero.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn take(&self) -> Vec<Aggregated> {
        let counts = std::mem::take(&mut *self.0.lock().unwrap());
        let mut list: Vec<Aggregated> = counts
            .into_iter()
            .map(|((timestamp, kind, sub_kind), count)| Aggregated {
                timestamp,
                kind,
                sub_kind,
                count,
            })
            .collect();
        list.sort_by_key(|a| (a.timestamp, a.kind, a.sub_kind));
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::str::Str;

    #[test]
    fn counts_by_kind_and_clears() {
        let traffic = Traffic::default();
        traffic.connection();
        traffic.received(10);
        traffic.received(5);
        traffic.sent(&Frame::Text(Str::from_static("42[\"a\"]")));
        traffic.sent(&Frame::WithAttachments(
            Str::from_static("451-[\"b\",{}]"),
            vec![bytes::Bytes::from_static(b"xyz")],
        ));
        traffic.disconnection("transport close");
        let got: HashMap<_, _> = traffic
            .take()
            .into_iter()
            .map(|a| ((a.kind, a.sub_kind), a.count))
            .collect();
        assert_eq!(got[&("rawConnection", None)], 1);
        assert_eq!(got[&("packetsIn", None)], 2);
        assert_eq!(got[&("bytesIn", None)], 15);
        assert_eq!(got[&("packetsOut", None)], 3);
        assert_eq!(got[&("bytesOut", None)], 6 + 11 + 3);
        assert_eq!(got[&("rawDisconnection", Some("transport close"))], 1);
        assert!(traffic.take().is_empty());
    }
}
