//! Arguments of a text packet kept as JSON text: each argument is a span of the packet's
//! argument array, deserialized straight into the handler's type when asked for (one pass,
//! no intermediate `serde_json::Value` tree). Binary packets take the `Value` path of `de.rs`,
//! which resolves attachment placeholders.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use super::split;

type Error = serde_json::Error;

/// Where one argument sits in the argument array text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

/// A JSON argument array (`[...]`, the event name removed for events) as text with the span of
/// each argument.
#[derive(Clone)]
pub(crate) struct RawArgs {
    text: Arc<str>,
    spans: Spans,
}

/// How many spans are kept without an allocation of their own: an event name and three
/// arguments (most packets have fewer).
const INLINE_SPANS: usize = 4;

/// The spans of an argument array: up to [`INLINE_SPANS`] inline, more in a vector.
#[derive(Clone)]
pub(super) enum Spans {
    Inline(u8, [Span; INLINE_SPANS]),
    Heap(Vec<Span>),
}

impl Spans {
    pub(super) fn new() -> Spans {
        Spans::Inline(0, [Span::new(0, 0); INLINE_SPANS])
    }

    pub(super) fn push(&mut self, span: Span) {
        match self {
            Spans::Inline(len, spans) => match spans.get_mut(usize::from(*len)) {
                Some(slot) => {
                    *slot = span;
                    *len += 1;
                }
                None => {
                    let mut all = Vec::with_capacity(INLINE_SPANS * 2);
                    all.extend_from_slice(spans);
                    all.push(span);
                    *self = Spans::Heap(all);
                }
            },
            Spans::Heap(all) => all.push(span),
        }
    }

    pub(super) fn as_slice(&self) -> &[Span] {
        match self {
            Spans::Inline(len, spans) => &spans[..usize::from(*len)],
            Spans::Heap(all) => all,
        }
    }

    /// Removes the first span, if any.
    fn remove_first(&mut self) {
        match self {
            Spans::Inline(len, spans) => {
                if *len > 0 {
                    spans.copy_within(1..usize::from(*len), 0);
                    *len -= 1;
                }
            }
            Spans::Heap(all) => {
                if !all.is_empty() {
                    all.remove(0);
                }
            }
        }
    }
}

impl fmt::Debug for RawArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.spans.as_slice().iter().map(|&s| &self.text[s.range()]))
            .finish()
    }
}

impl Span {
    pub(super) fn new(start: u32, end: u32) -> Span {
        Span { start, end }
    }

    pub(super) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// The event name a number stands for, as JavaScript's `String(n)` writes it for the numbers
/// clients send (socket.io-parser accepts a number as the event name: `42[1,"x"]` is event
/// `"1"`).
pub(crate) fn number_name(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// What a missing argument reads as.
const NULL: &str = "null";

impl RawArgs {
    /// Splits a JSON array into its elements without building values (the syntax is fully
    /// checked). `Err` when `text` is not a JSON array.
    ///
    /// Nesting deeper than [`MAX_DEPTH`] is refused here, as serde_json refuses it when it
    /// builds values: splitting alone has no depth limit, so without this check an argument
    /// that no decoder can read would be accepted and later read as an error or `null`.
    ///
    /// The scanner of `split.rs` reads almost every packet; what it does not accept (invalid
    /// text, `\u` escapes) serde_json reads, so the answer and its error are serde_json's.
    pub(crate) fn parse(text: &str) -> Result<RawArgs, Error> {
        let spans = match split::split(text) {
            Some(spans) => spans,
            None => Spans::Heap(Self::spans_by_serde_json(text)?),
        };
        Ok(RawArgs {
            text: Arc::from(text),
            spans,
        })
    }

    /// [`RawArgs::parse`]'s spans as serde_json finds them (each element read as a
    /// `RawValue`, then the depth checked).
    pub(super) fn spans_by_serde_json(text: &str) -> Result<Vec<Span>, Error> {
        check_depth(text)?;
        let base = text.as_ptr() as usize;
        let mut de = serde_json::Deserializer::from_str(text);
        let spans = de::Deserializer::deserialize_seq(&mut de, SpansVisitor { base })?;
        de.end()?;
        Ok(spans)
    }

    /// Number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.spans.as_slice().len()
    }

    /// The JSON text of argument `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        self.spans
            .as_slice()
            .get(index)
            .map(|s| &self.text[s.range()])
    }

    /// Removes the first argument and returns it as an event name, when it is a string or a
    /// number (socket.io-parser accepts both; a number names the event `String(n)`).
    pub(crate) fn take_name(&mut self) -> Option<String> {
        let first = self.get(0)?;
        let name = if !first.starts_with('"') {
            let n = serde_json::from_str::<serde_json::Number>(first).ok()?;
            number_name(&n)
        } else if first.as_bytes()[1..first.len() - 1].contains(&b'\\') {
            serde_json::from_str::<String>(first).ok()?
        } else {
            first[1..first.len() - 1].to_owned()
        };
        self.spans.remove_first();
        Some(name)
    }

    /// Deserializes argument `index`; a missing one reads as `null`.
    pub(crate) fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, Error> {
        serde_json::from_str(self.get(index).unwrap_or(NULL))
    }

    /// Deserializes the whole list: a tuple takes the arguments positionally, any other type
    /// the first argument.
    pub(crate) fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        T::deserialize(ListDe(self))
    }

    /// The arguments as JSON values.
    pub(crate) fn to_values(&self) -> Vec<Value> {
        (0..self.len())
            .map(|i| self.arg::<Value>(i).unwrap_or(Value::Null))
            .collect()
    }
}

/// Deepest nesting accepted in an argument array (the array itself counts): serde_json's own
/// recursion limit when it builds values, so every accepted argument can be read.
pub(crate) const MAX_DEPTH: usize = 128;

/// Refuses JSON text nested deeper than [`MAX_DEPTH`] with serde_json's "recursion limit
/// exceeded" error. Text with fewer brackets than that cannot be too deep: one cheap count
/// settles almost every packet; only the others are scanned (strings skipped).
fn check_depth(text: &str) -> Result<(), Error> {
    let bytes = text.as_bytes();
    let opening = bytes.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if opening <= MAX_DEPTH {
        return Ok(());
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(de::Error::custom("recursion limit exceeded"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Collects the span of every element of a JSON array, relative to `base`.
struct SpansVisitor {
    base: usize,
}

impl<'de> Visitor<'de> for SpansVisitor {
    type Value = Vec<Span>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Span>, A::Error> {
        let mut spans = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            let text = raw.get();
            let start = text.as_ptr() as usize - self.base;
            let span = u32::try_from(start)
                .ok()
                .zip(u32::try_from(start + text.len()).ok())
                .ok_or_else(|| de::Error::custom("arguments too large"))?;
            spans.push(Span {
                start: span.0,
                end: span.1,
            });
        }
        Ok(spans)
    }
}

/// The argument list at the top level (see [`RawArgs::decode`]).
struct ListDe<'a>(&'a RawArgs);

impl<'a> ListDe<'a> {
    fn first(&self) -> &'a str {
        self.0.get(0).unwrap_or(NULL)
    }
}

macro_rules! first_arg {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            let mut de = serde_json::Deserializer::from_str(self.first());
            let value = de::Deserializer::$method(&mut de, $($arg,)* visitor)?;
            de.end()?;
            Ok(value)
        })*
    };
}

impl<'de> de::Deserializer<'de> for ListDe<'de> {
    type Error = Error;

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(ElementsDe {
            args: self.0,
            next: 0,
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    first_arg_methods!(first_arg);
}

/// The arguments one by one, for a tuple.
struct ElementsDe<'a> {
    args: &'a RawArgs,
    next: usize,
}

impl<'de> SeqAccess<'de> for ElementsDe<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(text) = self.args.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let mut de = serde_json::Deserializer::from_str(text);
        let value = seed.deserialize(&mut de)?;
        de.end()?;
        Ok(Some(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.args.len() - self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_number_of_arguments() {
        // Fewer, as many and more arguments than are kept inline, named or not.
        for count in 0..=2 * INLINE_SPANS + 1 {
            let items: Vec<String> = (0..count).map(|i| format!("[{i}]")).collect();
            let text = format!("[{}]", items.join(","));
            let mut raw = RawArgs::parse(&text).unwrap();
            assert_eq!(raw.len(), count, "{text}");
            for (i, item) in items.iter().enumerate() {
                assert_eq!(raw.get(i), Some(item.as_str()), "{text}");
            }
            assert_eq!(raw.get(count), None);
            // an array is no event name: nothing removed
            assert_eq!(raw.take_name(), None);
            assert_eq!(raw.len(), count);
            let named = format!(
                r#"["ev"{}{}]"#,
                if count > 0 { "," } else { "" },
                items.join(",")
            );
            let mut raw = RawArgs::parse(&named).unwrap();
            assert_eq!(raw.take_name().as_deref(), Some("ev"), "{named}");
            assert_eq!(raw.len(), count);
            for (i, item) in items.iter().enumerate() {
                assert_eq!(raw.get(i), Some(item.as_str()), "{named}");
            }
            assert_eq!(format!("{raw:?}"), format!("{items:?}"));
        }
    }

    #[test]
    fn splits_without_building_values() {
        let mut raw = RawArgs::parse(r#"["ev", {"a":[1,2]}, "x\"y", 3.5, null ]"#).unwrap();
        assert_eq!(raw.take_name().as_deref(), Some("ev"));
        assert_eq!(raw.len(), 4);
        assert_eq!(raw.get(0), Some(r#"{"a":[1,2]}"#));
        assert_eq!(raw.arg::<String>(1).unwrap(), "x\"y");
        assert_eq!(raw.arg::<Option<u8>>(7).unwrap(), None);
        assert_eq!(raw.decode::<(Value, String)>().unwrap().1, "x\"y");
        assert_eq!(raw.decode::<Value>().unwrap(), json!({"a": [1, 2]}));
        assert_eq!(raw.to_values()[2], json!(3.5));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // Splitting alone would not recurse: the depth is checked, so a packet no decoder can
        // read is refused up front (it used to be accepted and its argument read as `null`).
        let err = RawArgs::parse(&format!(r#"["ev",{}]"#, nested(100_000))).unwrap_err();
        assert!(
            err.to_string().contains("recursion limit exceeded"),
            "{err}"
        );
        assert!(RawArgs::parse(&format!(r#"["ev",{}]"#, nested(MAX_DEPTH))).is_err());
        // At the limit every argument is readable, by every decoder.
        let mut raw = RawArgs::parse(&format!(r#"["ev",{}]"#, nested(MAX_DEPTH - 1))).unwrap();
        raw.take_name();
        assert!(raw.arg::<Value>(0).is_ok());
        assert!(!raw.to_values()[0].is_null());
        // Brackets inside strings do not count.
        let text = format!(r#"["ev","{}\"{}",[]]"#, "[".repeat(500), "{".repeat(500));
        assert_eq!(RawArgs::parse(&text).unwrap().len(), 3);
    }

    #[test]
    fn escaped_names_and_bad_input() {
        let mut raw = RawArgs::parse(r#"["a\u0062",1]"#).unwrap();
        assert_eq!(raw.take_name().as_deref(), Some("ab"));
        assert!(RawArgs::parse(r#"[1,"#).is_err());
        assert!(RawArgs::parse(r#"{"a":1}"#).is_err());
        assert!(RawArgs::parse(r#"[1] x"#).is_err());
        // a number names an event (socket.io-parser), anything else does not
        assert_eq!(
            RawArgs::parse("[1]").unwrap().take_name().as_deref(),
            Some("1")
        );
        assert_eq!(RawArgs::parse("[true]").unwrap().take_name(), None);
        assert_eq!(RawArgs::parse("[{}]").unwrap().take_name(), None);
    }
}
