//! Session ids: 20 url-safe base64 characters drawn from 15 random bytes.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use rand::RngCore;

/// A session id, used both for Engine.IO sessions and Socket.IO sockets.
///
/// It is `Copy` and compares as a plain array; it hashes as two words (see its `Hash`), so it is
/// cheap to use as a map key. The textual form is 20 url-safe base64 characters, as in the reference server; sockets of
/// legacy clients (Engine.IO v3) use the ids those clients compute themselves, `<nsp>#<sid>`
/// (see [`Sid::legacy`]), which is why it can hold up to [`Sid::MAX`] bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sid {
    len: u8,
    bytes: [u8; Sid::MAX],
}

/// Hashes the id's last 16 bytes (and its length) as two words instead of the whole 64-byte
/// array: every broadcast looks each receiver up by id, and hashing the array was 4 % of a
/// delivery's instructions (callgrind). The last bytes are random in every id: a generated id
/// is base64 of random bytes, a legacy `<nsp>#<session>` id ends with its session's id. Equal
/// ids hash alike, as `Eq` needs.
impl std::hash::Hash for Sid {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let used = &self.bytes[..usize::from(self.len)];
        let tail = &used[used.len().saturating_sub(16)..];
        let mut words = [0u8; 16];
        words[..tail.len()].copy_from_slice(tail);
        let (low, high) = words.split_at(8);
        state.write_u64(u64::from_le_bytes(low.try_into().expect("8 bytes")));
        state.write_u64(u64::from_le_bytes(high.try_into().expect("8 bytes")));
        state.write_u8(self.len);
    }
}

impl Sid {
    /// Length of the textual form of a generated id.
    pub const LEN: usize = 20;

    /// Longest id (in bytes).
    pub const MAX: usize = 64;

    /// A fresh random id.
    pub fn new() -> Self {
        let mut raw = [0u8; 15];
        rand::rng().fill_bytes(&mut raw);
        let mut bytes = [0u8; Self::MAX];
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode_slice(raw, &mut bytes[..Self::LEN])
            .expect("15 bytes encode to exactly 20 base64 characters");
        Sid {
            len: Self::LEN as u8,
            bytes,
        }
    }

    /// The id a Socket.IO v4 client (socket.io-client 1.x/2.x, python-socketio 4.x) gives its
    /// socket in namespace `nsp` of session `session`: the session id in `/`, `<nsp>#<session>`
    /// elsewhere (a fresh id when that would be longer than [`Sid::MAX`]).
    pub fn legacy(nsp: &str, session: Sid) -> Self {
        if nsp == "/" {
            return session;
        }
        let text = format!("{nsp}#{session}");
        if text.len() > Self::MAX {
            return Sid::new();
        }
        let mut bytes = [0u8; Self::MAX];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Sid {
            len: text.len() as u8,
            bytes,
        }
    }

    /// The textual form.
    pub fn as_str(&self) -> &str {
        // Only base64url characters or a namespace (a `str`) plus `#` are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("sid is utf-8")
    }
}

impl Default for Sid {
    fn default() -> Self {
        Self::new()
    }
}

/// The error returned when a string is not a valid [`Sid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid session id")]
pub struct InvalidSid;

impl FromStr for Sid {
    type Err = InvalidSid;

    /// Parses a generated id (20 url-safe base64 characters).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = s.len() == Self::LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(InvalidSid);
        }
        let mut bytes = [0u8; Self::MAX];
        bytes[..Self::LEN].copy_from_slice(s.as_bytes());
        Ok(Sid {
            len: Self::LEN as u8,
            bytes,
        })
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<Sid> for String {
    fn from(sid: Sid) -> String {
        sid.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_hash_alike_and_distinct_ones_apart() {
        let state = std::collections::hash_map::RandomState::new();
        let hash = |sid: &Sid| {
            use std::hash::BuildHasher;
            state.hash_one(sid)
        };
        let a = Sid::new();
        let copy: Sid = a.as_str().parse().unwrap();
        assert_eq!(hash(&a), hash(&copy));
        // legacy ids share their namespace prefix: their session part keeps them apart
        let hashes: std::collections::HashSet<u64> = (0..1000)
            .map(|_| hash(&Sid::legacy("/a-rather-long-namespace-name", Sid::new())))
            .chain((0..1000).map(|_| hash(&Sid::new())))
            .collect();
        assert_eq!(hashes.len(), 2000);
    }

    #[test]
    fn roundtrip_and_uniqueness() {
        let a = Sid::new();
        let b = Sid::new();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 20);
        assert_eq!(a.as_str().parse::<Sid>().unwrap(), a);
    }

    #[test]
    fn legacy_ids() {
        let session = Sid::new();
        assert_eq!(Sid::legacy("/", session), session);
        assert_eq!(
            Sid::legacy("/chat", session).as_str(),
            format!("/chat#{session}")
        );
        assert_eq!(
            Sid::legacy(&format!("/{}", "x".repeat(60)), session)
                .as_str()
                .len(),
            20
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!("short".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("aaaaaaaaaaaaaaaaaaa!".parse::<Sid>(), Err(InvalidSid));
    }
}
