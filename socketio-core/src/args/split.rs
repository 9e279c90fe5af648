//! Splitting a JSON argument array into the spans of its elements in one pass over the bytes,
//! checking the syntax as it goes: what `RawArgs::parse` does for every text packet a client
//! sends. serde_json's own way (each element read as a `RawValue`) checks the same syntax but
//! costs about four times as many instructions, and needed a second pass for the nesting
//! depth.
//!
//! The grammar is RFC 8259's, as serde_json reads it: whitespace is space, tab, line feed and
//! carriage return; a string holds no unescaped `"`, `\` or control character (below U+0020);
//! escapes are `\" \\ \/ \b \f \n \r \t \uXXXX`; a number is `-? (0 | [1-9][0-9]*) (.[0-9]+)?
//! ([eE][+-]?[0-9]+)?` (its range is not checked: a value too large for `f64` fails when the
//! argument is read, as it does after serde_json's split); nesting is at most
//! [`MAX_DEPTH`](super::raw::MAX_DEPTH) levels, the array itself included.
//!
//! [`split`] only ever accepts valid text. It gives up (`None`) on anything it does not accept,
//! and on the rare `\u` escape; the caller then asks serde_json, whose answer (and error message)
//! stands.

use super::raw::{Span, Spans, MAX_DEPTH};

/// The spans of the elements of the JSON array `text` (surrounding whitespace allowed), or
/// `None` when the text is not a valid array this scanner reads (see the module comment).
pub(super) fn split(text: &str) -> Option<Spans> {
    // Offsets are kept as `u32`.
    if u32::try_from(text.len()).is_err() {
        return None;
    }
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: 0,
    };
    scan.whitespace();
    if scan.peek()? != b'[' {
        return None;
    }
    scan.at += 1;
    let mut spans = Spans::new();
    scan.whitespace();
    if scan.peek()? == b']' {
        scan.at += 1;
    } else {
        loop {
            let start = scan.at;
            scan.value(MAX_DEPTH - 1)?;
            spans.push(Span::new(start as u32, scan.at as u32));
            scan.whitespace();
            match scan.next()? {
                b',' => scan.whitespace(),
                b']' => break,
                _ => return None,
            }
        }
    }
    scan.whitespace();
    (scan.at == scan.bytes.len()).then_some(spans)
}

/// A cursor over the text.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// One value; `depth` is how many more levels of nesting may be opened.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string(),
            b'{' => self.object(depth.checked_sub(1)?),
            b'[' => self.array(depth.checked_sub(1)?),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(());
        }
        loop {
            self.value(depth)?;
            self.whitespace();
            match self.next()? {
                b',' => self.whitespace(),
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.at += 1;
        self.whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.string()?;
            self.whitespace();
            if self.next()? != b':' {
                return None;
            }
            self.whitespace();
            self.value(depth)?;
            self.whitespace();
            match self.next()? {
                b',' => self.whitespace(),
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A string, the cursor on its opening quote.
    fn string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            self.skip_plain();
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    // `\u` (rare): serde_json decides.
                    _ => return None,
                },
                // A control character.
                b if b < 0x20 => return None,
                // A byte the word-at-a-time test flagged without cause.
                _ => {}
            }
        }
    }

    /// Moves the cursor to the next byte that may be `"`, `\` or a control character (or to the
    /// end), eight bytes at a time.
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::from_ne_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        // Bytes below `n` (n <= 0x80) have their high bit set in the result, the lowest such
        // byte exactly (a borrow only runs towards the higher ones).
        let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
        while let Some(chunk) = self.bytes.get(self.at..self.at + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            let found = below(w ^ (ONES * u64::from(b'"')), 1)
                | below(w ^ (ONES * u64::from(b'\\')), 1)
                | below(w, 0x20);
            if found != 0 {
                self.at += (found.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        while let Some(b) = self.peek() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        (self.at > start).then_some(())
    }

    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.next()? {
            // One leading zero, alone.
            b'0' => {
                if let Some(b'0'..=b'9') = self.peek() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.at += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.digits()?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::raw::RawArgs;

    /// What serde_json makes of `text` (`RawArgs`'s way before this scanner): the elements'
    /// texts, or `None` when it refuses the text.
    fn serde_split(text: &str) -> Option<Vec<&str>> {
        let spans = RawArgs::spans_by_serde_json(text).ok()?;
        Some(spans.iter().map(|s| &text[s.range()]).collect())
    }

    fn ours(text: &str) -> Option<Vec<&str>> {
        let spans = split(text)?;
        Some(spans.as_slice().iter().map(|s| &text[s.range()]).collect())
    }

    /// Whatever `split` accepts, serde_json accepts, with the same elements; whatever it gives
    /// up on, serde_json decides. `must_accept`: `split` must not give up (no `\u`).
    fn check(text: &str, must_accept: bool) {
        let ours = ours(text);
        if let Some(got) = &ours {
            assert_eq!(Some(got), serde_split(text).as_ref(), "{text:?}");
        }
        if must_accept {
            assert_eq!(ours, serde_split(text), "{text:?}");
        }
    }

    #[test]
    fn agrees_with_serde_json() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let long = "x".repeat(100);
        let cases = [
            "[]",
            " [ ] ",
            "\t\r\n[\t\r\n]\t\r\n",
            r#"["ev"]"#,
            r#"["ev", {"a":[1,2]}, "x\"y", 3.5, null ]"#,
            r#"["e",true,false,null,0,-0,1,-1,10,0.5,-0.5,1e5,1E5,1e+5,1e-5,1.5e-7,12345678901234567890123]"#,
            r#"["\"\\\/\b\f\n\r\t"]"#,
            r#"["é✓😀",{"é":"😀"}]"#,
            r#"[{},[],{"a":{}},[[]],{"a":[{"b":null}]}]"#,
            r#"[ { "a" : 1 , "b" : [ 1 , 2 ] } ]"#,
            "[\"0123456\\\"89abcdef\",\"01234567\",\"012345678\"]",
            // refused
            "",
            " ",
            "[",
            "]",
            "[,]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1,,2]",
            "[] x",
            "[]]",
            "{}",
            "1",
            "[01]",
            "[-]",
            "[-01]",
            "[1.]",
            "[.5]",
            "[1.e5]",
            "[1e]",
            "[1e+]",
            "[+1]",
            "[0x10]",
            "[NaN]",
            "[Infinity]",
            "[tru]",
            "[nul]",
            "[falsey]",
            "[True]",
            "[\"a]",
            "[\"a\\\"]",
            "[\"\\x\"]",
            "[\"\\\"]",
            "[\"a\nb\"]",
            "[\"a\u{1}b\"]",
            "[\"a\u{1f}\"]",
            "[\"0123456\u{0}\"]",
            "[{\"a\"}]",
            "[{\"a\":}]",
            "[{a:1}]",
            "[{1:1}]",
            "[{\"a\":1,}]",
            "[{\"a\":1 \"b\":2}]",
            "[{\"a\" 1}]",
            "[{]",
            "[[}]",
            "[é]",
            "[\u{a0}1]",
            "[1]\u{0}",
            "[\"x\"",
        ];
        for text in cases {
            check(text, true);
        }
        let with_long = format!(r#"["{long}","{long}\"{long}",{{"{long}":"{long}"}}]"#);
        check(&with_long, true);
        // Nesting up to the limit, the array itself included, and not one level more.
        check(&nested(MAX_DEPTH), true);
        check(&nested(MAX_DEPTH + 1), true);
        check(&format!(r#"["ev",{}]"#, nested(MAX_DEPTH - 1)), true);
        check(&format!(r#"["ev",{}]"#, nested(MAX_DEPTH)), true);
        let objects = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        check(&format!("[{}]", objects(MAX_DEPTH - 1)), true);
        check(&format!("[{}]", objects(MAX_DEPTH)), true);
        // `\u` escapes are left to serde_json.
        for text in [
            r#"["\u0041"]"#,
            r#"["\ud83d\ude00"]"#,
            r#"["\ud83d"]"#,
            r#"["\u00g1"]"#,
        ] {
            assert!(split(text).is_none(), "{text}");
        }
    }

    #[test]
    fn spans_leave_out_whitespace() {
        let text = " [ 1 ,\n\"a b\"\t, {\"k\" : [ ] } ] ";
        assert_eq!(ours(text).unwrap(), ["1", "\"a b\"", "{\"k\" : [ ] }"]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Near-JSON text from JSON's own characters (and a few that are not): `split`
            /// never disagrees with serde_json, and only gives up on `\u`.
            #[test]
            fn agrees_on_arbitrary_text(
                body in "[\\[\\]{}\",:0-9.eE+\\-a-z\\\\/ \t\n\u{1}\u{1f}é😀]{0,40}",
            ) {
                let text = format!("[{body}]");
                let escaped_u = text.contains("\\u");
                check(&text, !escaped_u);
                check(&body, !body.contains("\\u"));
            }

            /// Arguments serde_json wrote split into exactly those arguments.
            #[test]
            fn splits_what_serde_json_writes(
                args in prop::collection::vec(any::<(String, i64, f64, bool)>(), 0..4),
            ) {
                let values: Vec<serde_json::Value> = args
                    .iter()
                    .map(|(s, i, f, b)| serde_json::json!([s, {"i": i, "f": f, "b": b}]))
                    .collect();
                let text = serde_json::to_string(&values).unwrap();
                // serde_json writes no `\u` escapes but those of control characters.
                check(&text, !text.contains("\\u"));
            }
        }
    }
}
