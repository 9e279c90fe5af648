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

/// Appends the arguments of `value` to `out` as a JSON array (`[a,b]`, `[]` for none).
/// `Ok(false)`, with `out` unchanged, when the general path is needed.
pub(crate) fn write_json_args<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<bool, serde_json::Error> {
    let shape = probe(value)?;
    match shape {
        Shape::Ok(_) | Shape::Err => return Ok(false),
        Shape::Unit => {
            out.extend_from_slice(b"[]");
            return Ok(true);
        }
        Shape::Tuple | Shape::Other => {}
    }
    // A tuple serializes as the array itself; anything else is its one element.
    let wrap = !matches!(shape, Shape::Tuple);
    let start = out.len();
    if wrap {
        out.push(b'[');
    }
    let saw_bytes = Cell::new(false);
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, NoBytes(&saw_bytes));
    if let Err(err) = value.serialize(&mut ser) {
        out.truncate(start);
        return if saw_bytes.get() { Ok(false) } else { Err(err) };
    }
    if wrap {
        out.push(b']');
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<T: Serialize + ?Sized>(value: &T) -> Option<String> {
        let mut out = b"x".to_vec();
        let fast = write_json_args(&mut out, value).unwrap();
        assert!(
            fast || out == b"x",
            "unchanged when the general path is needed"
        );
        fast.then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn shapes() {
        assert_eq!(text(&()).as_deref(), Some("x[]"));
        assert_eq!(text(&"a").as_deref(), Some("x[\"a\"]"));
        assert_eq!(text(&("a", 1)).as_deref(), Some("x[\"a\",1]"));
        assert_eq!(text(&vec![1, 2]).as_deref(), Some("x[[1,2]]"));
    }

    #[test]
    fn bytes_and_results_take_the_general_path() {
        assert_eq!(text(&bytes::Bytes::from_static(b"x")), None);
        assert_eq!(text(&("a", bytes::Bytes::from_static(b"x"))), None);
        assert_eq!(text(&Ok::<u8, u8>(1)), None);
    }
}
