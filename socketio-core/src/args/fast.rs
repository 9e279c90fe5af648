//! The fast path for sending: data without binary is written straight to JSON, skipping the
//! intermediate `serde_json::Value` tree. Data holding bytes (or a top-level `Result`) takes
//! the general path of `ser.rs`.

use std::cell::Cell;
use std::io;

use serde::Serialize;

use super::ser::{probe, Shape};

/// Refuses byte strings, noting that it saw one.
struct NoBytes<'a>(&'a Cell<bool>);

impl serde_json::ser::Formatter for NoBytes<'_> {
    fn write_byte_array<W: ?Sized + io::Write>(&mut self, _: &mut W, _: &[u8]) -> io::Result<()> {
        self.0.set(true);
        Err(io::Error::other("binary data takes the attachment path"))
    }
}

/// The arguments of `value` as JSON, comma-separated, ready to go between `[` and `]` (empty
/// for none). `Ok(None)` when the general path is needed.
pub(crate) fn json_args<T: Serialize + ?Sized>(
    value: &T,
) -> Result<Option<Vec<u8>>, serde_json::Error> {
    let shape = probe(value)?;
    if matches!(shape, Shape::Ok(_) | Shape::Err) {
        return Ok(None);
    }
    if matches!(shape, Shape::Unit) {
        return Ok(Some(Vec::new()));
    }
    let saw_bytes = Cell::new(false);
    let mut out = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, NoBytes(&saw_bytes));
    match value.serialize(&mut ser) {
        Ok(()) => {}
        Err(_) if saw_bytes.get() => return Ok(None),
        Err(err) => return Err(err),
    }
    if matches!(shape, Shape::Tuple) {
        // `[a,b]` → `a,b`
        out.pop();
        out.remove(0);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Option<Vec<u8>>) -> Option<String> {
        v.map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn shapes() {
        assert_eq!(text(json_args(&()).unwrap()), Some(String::new()));
        assert_eq!(text(json_args(&"a").unwrap()), Some("\"a\"".into()));
        assert_eq!(text(json_args(&("a", 1)).unwrap()), Some("\"a\",1".into()));
        assert_eq!(text(json_args(&vec![1, 2]).unwrap()), Some("[1,2]".into()));
        assert_eq!(text(json_args(&()).unwrap()), Some(String::new()));
    }

    #[test]
    fn bytes_and_results_take_the_general_path() {
        assert_eq!(json_args(&bytes::Bytes::from_static(b"x")).unwrap(), None);
        assert_eq!(
            json_args(&("a", bytes::Bytes::from_static(b"x"))).unwrap(),
            None
        );
        assert_eq!(json_args(&Ok::<u8, u8>(1)).unwrap(), None);
    }
}
