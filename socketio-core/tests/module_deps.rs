//! The top-level modules of socketio-core must import each other without a cycle (issue #12;
//! the layer order is in ARCHITECTURE.md). This test reads `src/`, finds which top-level
//! modules each one names, and fails with the cycle when there is one.
//!
//! A module `a` names `b` when its code (comments left out) has a path `crate::b…`, a group
//! `crate::{b…, …}`, a `super::…` chain climbing to the crate root then `b`, or a name that
//! `lib.rs` re-exports from `b` (`crate::Sid` is `engine`). `scripts/module-deps.sh` prints the
//! same graph by running this test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which top-level modules each top-level module names (`lib.rs` excluded).
type Graph = BTreeMap<String, BTreeSet<String>>;

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Open,
    Close,
    Other(char),
}

/// Tokens of Rust source, comments, strings and chars left out.
fn tokens(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'r' && matches!(b.get(i + 1), Some(b'"' | b'#')) && raw_string(b, i) {
            // r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == b'#')
                        .count()
                        == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\'') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_owned()));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok::Path);
            i += 2;
        } else if c == b'{' {
            out.push(Tok::Open);
            i += 1;
        } else if c == b'}' {
            out.push(Tok::Close);
            i += 1;
        } else {
            if !c.is_ascii_whitespace() {
                out.push(Tok::Other(c as char));
            }
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` starts a raw string (not an identifier such as `r#type` or `ptr`).
fn raw_string(b: &[u8], i: usize) -> bool {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return false;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    b.get(j) == Some(&b'"')
}

/// The first identifier of each item of the `{…}` group starting at `toks[open]`.
fn group_heads(toks: &[Tok], open: usize) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for tok in &toks[open..] {
        match tok {
            Tok::Open => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                }
            }
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Other(',') if depth == 1 => expect_head = true,
            Tok::Ident(name) if depth == 1 && expect_head => {
                heads.push(name.clone());
                expect_head = false;
            }
            _ => {
                if depth == 1 {
                    expect_head = false;
                }
            }
        }
    }
    heads
}

/// The names reached from the crate root in `src`, a file of module `path` (e.g. `["engine",
/// "http"]`): after `crate::` or enough `super::`, one name or a group's heads.
fn root_names(src: &str, path: &[String]) -> BTreeSet<String> {
    let toks = tokens(src);
    let mut names = BTreeSet::new();
    // Inline modules (`mod tests { … }`) add to the path while open: (brace depth at open).
    let mut inline: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => depth += 1,
            Tok::Close => {
                depth = depth.saturating_sub(1);
                if inline.last() == Some(&depth) {
                    inline.pop();
                }
            }
            Tok::Ident(kw) if kw == "mod" => {
                if let (Some(Tok::Ident(_)), Some(Tok::Open)) = (toks.get(i + 1), toks.get(i + 2)) {
                    inline.push(depth);
                }
            }
            Tok::Ident(kw) if kw == "crate" || kw == "super" => {
                let previous_is_path = i > 0 && toks[i - 1] == Tok::Path;
                if !previous_is_path && toks.get(i + 1) == Some(&Tok::Path) {
                    // How deep we are after this chain of `super`s (`crate` is depth 0).
                    let mut level = path.len() + inline.len();
                    let mut j = i;
                    let mut at_root = kw == "crate";
                    if !at_root {
                        while let Some(Tok::Ident(s)) = toks.get(j) {
                            if s != "super" || toks.get(j + 1) != Some(&Tok::Path) {
                                break;
                            }
                            level = level.saturating_sub(1);
                            j += 2;
                        }
                        at_root = level == 0;
                        j = j.saturating_sub(1); // on the last `::`
                    } else {
                        j = i + 1;
                    }
                    if at_root {
                        match toks.get(j + 1) {
                            Some(Tok::Ident(name)) => {
                                names.insert(name.clone());
                            }
                            Some(Tok::Open) => names.extend(group_heads(&toks, j + 1)),
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// What `lib.rs` re-exports at the crate root: name → the top-level module it comes from.
fn lib_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let toks = tokens(lib);
    let mut map = BTreeMap::new();
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => depth += 1,
            Tok::Close => depth -= 1,
            Tok::Ident(kw) if kw == "use" && depth == 0 => {
                // `pub use a::b::{C, D as E};` / `pub use a::C;`
                let mut j = i + 1;
                let module = match toks.get(j) {
                    Some(Tok::Ident(m)) if m == "crate" || m == "self" => {
                        j += 2;
                        match toks.get(j) {
                            Some(Tok::Ident(m)) => m.clone(),
                            _ => String::new(),
                        }
                    }
                    Some(Tok::Ident(m)) => m.clone(),
                    _ => String::new(),
                };
                let mut inner = 0;
                while let Some(tok) = toks.get(j) {
                    let last_of_item =
                        matches!(toks.get(j + 1), Some(Tok::Other(',' | ';') | Tok::Close));
                    match tok {
                        Tok::Other(';') if inner == 0 => break,
                        Tok::Open => inner += 1,
                        Tok::Close => inner -= 1,
                        // The last identifier before `,`, `}` or `;` is the exported name.
                        Tok::Ident(name)
                            if last_of_item && name != "self" && modules.contains(&module) =>
                        {
                            map.insert(name.clone(), module.clone());
                        }
                        _ => {}
                    }
                    j += 1;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    map
}

/// The module path of a file under `src/`: `engine/http.rs` → `[engine, http]`, `engine/mod.rs`
/// → `[engine]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The import graph between the top-level modules of the crate whose sources are in `src`.
fn graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_path(f.strip_prefix(src).unwrap()))
        .filter(|p| !p.is_empty() && p[0] != "lib" && p[0] != "main")
        .map(|p| p[0].clone())
        .collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let reexports = lib_reexports(&lib, &modules);
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    for file in &files {
        let path = module_path(file.strip_prefix(src).unwrap());
        let Some(top) = path.first().filter(|m| modules.contains(*m)) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for name in root_names(&text, &path) {
            let target = if modules.contains(&name) {
                Some(&name)
            } else {
                reexports.get(&name)
            };
            if let Some(target) = target.filter(|t| *t != top) {
                graph.get_mut(top).unwrap().insert(target.clone());
            }
        }
    }
    graph
}

/// A cycle of `graph` (its modules in import order, the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit<'a>(
        m: &'a str,
        graph: &'a Graph,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        marks.insert(m, Mark::Open);
        stack.push(m);
        for next in graph.get(m).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|s| *s == next).unwrap();
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|s| s.to_string()).collect();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(m, Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for m in graph.keys() {
        if marks.get(m.as_str()).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(cycle) = visit(m, graph, &mut marks, &mut Vec::new()) {
                return Some(cycle);
            }
        }
    }
    None
}

fn print(graph: &Graph) {
    for (m, deps) in graph {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        println!("{m}: {}", deps.join(" "));
    }
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph(&src);
    print(&graph);
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "socketio-core's top-level modules import each other in a cycle: {} \
             (see ARCHITECTURE.md for the layer order)",
            cycle.join(" -> ")
        );
    }
    println!("no cycle");
}

// The analysis itself, on small sources.

fn names(src: &str, path: &[&str]) -> Vec<String> {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    root_names(src, &path).into_iter().collect()
}

#[test]
fn sees_paths_groups_and_nested_groups() {
    assert_eq!(names("use crate::a::B;", &["m"]), ["a"]);
    assert_eq!(
        names("use crate::{a::B, b, c::{D, e::F}};", &["m"]),
        ["a", "b", "c"]
    );
    assert_eq!(names("fn f() { crate::x::y(); }", &["m"]), ["x"]);
    assert_eq!(
        names("use crate::{\n  a,\n  b::{self, C},\n};", &["m"]),
        ["a", "b"]
    );
}

#[test]
fn climbs_super_chains_to_the_root_only() {
    // From `a/b/c.rs`: two `super`s are `a`, three are the root.
    assert!(names("use super::super::x;", &["a", "b", "c"]).is_empty());
    assert_eq!(
        names("use super::super::super::x;", &["a", "b", "c"]),
        ["x"]
    );
    assert_eq!(names("use super::super::{x, y};", &["a", "b"]), ["x", "y"]);
    // From `a.rs`, `super` is the root; inside its `mod tests { }` it is `a` again.
    assert_eq!(names("use super::x;", &["a"]), ["x"]);
    assert!(names("mod tests { use super::x; }", &["a"]).is_empty());
    assert_eq!(
        names("mod tests { use super::super::x; } use super::y;", &["a"]),
        ["x", "y"]
    );
    // `something::super` is not a chain start, `self::x` stays in the module.
    assert!(names("use self::x; use a::super_x;", &["m"]).is_empty());
}

#[test]
fn ignores_comments_strings_and_chars() {
    let src = r##"
        // crate::a
        /// [`crate::b`]
        /* crate::c /* nested crate::d */ crate::e */
        let s = "crate::f"; let r = r#"crate::g"#; let c = '"'; let q = '\''; fn h<'a>() {}
        use crate::real;
    "##;
    assert_eq!(names(src, &["m"]), ["real"]);
}

#[test]
fn resolves_root_reexports_and_finds_cycles() {
    let modules: BTreeSet<String> = ["engine", "server", "args"].map(String::from).into();
    let lib =
        "pub mod engine;\npub use engine::sid::{InvalidSid, Sid};\npub use server::SocketIo;\n\
               pub use args::{Args as A, Value};\npub mod x { pub use crate::server::Other; }";
    let map = lib_reexports(lib, &modules);
    assert_eq!(map["Sid"], "engine");
    assert_eq!(map["InvalidSid"], "engine");
    assert_eq!(map["SocketIo"], "server");
    assert_eq!(map["A"], "args");
    assert!(!map.contains_key("Args"));
    assert!(!map.contains_key("Other"));

    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default();
    assert_eq!(find_cycle(&g), None);
    g.get_mut("c").unwrap().insert("a".into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}
