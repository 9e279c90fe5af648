//! `Str`: cheaply clonable UTF-8 text backed by `Bytes`.

use bytes::Bytes;

/// UTF-8 text in a reference-counted buffer: cloning it (for example to hand one encoded broadcast
/// packet to many sockets) does not copy the text.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Str(Bytes);

impl Str {
    /// Text known at compile time; no allocation.
    pub(crate) const fn from_static(s: &'static str) -> Self {
        Str(Bytes::from_static(s.as_bytes()))
    }

    pub(crate) fn as_str(&self) -> &str {
        // SAFETY: every constructor takes a `str` or `String`, so the bytes are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The text as a WebSocket text payload, without copying.
    pub(crate) fn into_ws_text(self) -> tungstenite::Utf8Bytes {
        // SAFETY: the bytes are valid UTF-8 (see `as_str`).
        unsafe { tungstenite::Utf8Bytes::from_bytes_unchecked(self.0) }
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(Bytes::from(s))
    }
}

impl std::fmt::Debug for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}
