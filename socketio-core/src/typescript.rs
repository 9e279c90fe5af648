//! TypeScript declarations for a server's namespaces (cargo feature `typescript`): each
//! namespace's `ClientToServerEvents`, `ServerToClientEvents` and auth type, ready for
//! socket.io-client's typed `Socket<ServerToClientEvents, ClientToServerEvents>`.
//!
//! Types are described with [ts-rs](https://docs.rs/ts-rs) (`#[derive(TS)]`, re-exported here as
//! [`TS`] and [`ts_rs`]), which follows serde's attributes (`rename`, `rename_all`, `tag`,
//! `content`, `untagged`, `flatten`, `skip`, `default`), so the declarations match the JSON the
//! server reads and writes. 64-bit integers are declared as `number` (serde_json writes them as
//! JSON numbers, which JavaScript reads as `number`).
//!
//! Where the descriptions come from:
//! - `#[namespace("/chat", typescript)]` (socketio-macros) describes every `#[on]` method (its
//!   argument types and parameter names, its return type as the ack), the `#[on_connect]` auth
//!   parameter, and with `emits = ChatEvents` the server → client events of a
//!   `#[derive(ServerEvents)]` enum marked `#[server_events(typescript)]`.
//! - Closures cannot be described from their type alone (their ack type is not nameable), so a
//!   namespace built with `ns.on(..)` declares them: [`crate::Namespace::describe_event`],
//!   [`crate::Namespace::describe_auth`], [`crate::Namespace::describe_emits`].
//!
//! [`crate::SocketIo::typescript`] renders every namespace into one `.d.ts`
//! text:
//!
//! ```
//! use socketio_core::typescript::TS;
//! use socketio_core::{SocketIo, SocketRef};
//!
//! #[derive(serde::Deserialize, serde::Serialize, TS)]
//! #[ts(crate = "socketio_core::typescript::ts_rs")]
//! #[serde(rename_all = "camelCase")]
//! struct Delivered { recipient_count: u32 }
//!
//! let io = SocketIo::new();
//! io.ns("/").on("message", |_s: SocketRef, room: String, text: String| async move {
//!     Delivered { recipient_count: 1 }
//! });
//! io.ns("/").describe_event::<(String, String), (Delivered,)>("message");
//!
//! let dts = io.typescript().unwrap();
//! assert!(dts.contains("export type Delivered = { recipientCount: number, };"));
//! assert!(dts.contains(
//!     "message: (arg0: string, arg1: string, callback: (arg0: Delivered) => void) => void;"
//! ));
//! ```
//!
//! What a declaration looks like, per namespace (`/` has no prefix, `/chat` the prefix `Chat`,
//! `/admin-panel/v2` `AdminPanelV2`):
//! - `ClientToServerEvents`: one member per event, `(params..., callback) => void`; the callback
//!   is there when the handler acks: `()` → no callback, `T` → `(arg0: T)`, a tuple → one
//!   parameter per element, `Result<T, E>` → `(res: T | { error: E })` (the error ack shape of
//!   [`crate::IntoAck`]). Trailing `Option` parameters are optional (`text?: string | null`): a
//!   missing argument reads as `None`. An `Args` parameter becomes `...rest: any[]`.
//! - `ServerToClientEvents`: one member per declared server event, `(params...) => void`.
//! - `SocketAuth`: the auth payload of the connect handler (`undefined` when it takes none).
//!
//! What it cannot express yet:
//! - a handler that takes an [`crate::AckSender`] answers with whatever it sends: its callback is
//!   declared `(...args: any[]) => void` unless [`crate::Namespace::describe_event`] says more;
//! - events of a closure registered without `describe_event`, and `#[on_any]` catch-alls, are not
//!   declared (the client cannot emit them through the typed socket; it can through an untyped one);
//! - `bytes::Bytes` has no `TS` impl here: wrap binary in a type with `#[ts(type = "ArrayBuffer")]`
//!   on the field; a `Result` return behind a type alias is taken for a single value;
//! - server → client acks (`emit_with_ack`) are not declared;
//! - a `#[serde(default)]` field is declared required (ts-rs declares the serialized shape):
//!   add `#[ts(optional)]` to an `Option` field the client may leave out;
//! - types that ts-rs cannot derive (a hand-written `Serialize`) need `#[ts(type = "..")]` or
//!   `#[ts(as = "..")]`.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt::Write;

pub use ts_rs::{self, TS};

/// How ts-rs is configured for socket.io payloads: 64-bit integers are JSON numbers.
fn config() -> ts_rs::Config {
    ts_rs::Config::new().with_large_int("number")
}

/// A Rust type as TypeScript: how to name it and where its declarations come from.
#[derive(Clone, Copy)]
pub struct TsType {
    name: fn(&ts_rs::Config) -> String,
    is_option: bool,
    collect: fn(&mut Collector),
}

impl std::fmt::Debug for TsType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.name)(&config()))
    }
}

impl TsType {
    /// The description of `T`.
    pub fn of<T: TS + 'static + ?Sized>() -> Self {
        TsType {
            name: T::name,
            is_option: T::IS_OPTION,
            collect: |c| {
                // A named type is declared itself; a structural one (`Vec<Line>`, a tuple) only
                // through what it names.
                if T::output_path().is_some() {
                    ts_rs::TypeVisitor::visit::<T>(c);
                } else {
                    T::visit_dependencies(c);
                }
            },
        }
    }
}

/// The declarations a set of types needs, each once, keyed by TypeScript name.
#[derive(Default)]
pub(crate) struct Collector {
    seen: Vec<TypeId>,
    decls: BTreeMap<String, Vec<(String, &'static str)>>,
}

impl ts_rs::TypeVisitor for Collector {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() || self.seen.contains(&TypeId::of::<T>()) {
            return;
        }
        self.seen.push(TypeId::of::<T>());
        let cfg = config();
        let mut decl = String::new();
        if let Some(docs) = T::docs() {
            decl.push_str(&docs);
        }
        let _ = write!(decl, "export {}", T::decl(&cfg));
        let entry = self.decls.entry(T::ident(&cfg)).or_default();
        // Instances of one generic type share its declaration.
        if !entry.iter().any(|(d, _)| *d == decl) {
            entry.push((decl, std::any::type_name::<T>()));
        }
        T::visit_dependencies(self);
    }
}

/// One parameter of an event.
#[derive(Debug, Clone)]
struct Param {
    name: Option<&'static str>,
    ty: TsType,
}

/// What a handler acks.
#[derive(Debug, Clone)]
enum Ack {
    /// No ack: `()` (the client's callback, if any, gets no argument).
    None,
    /// The ack's arguments.
    Args(Vec<TsType>),
    /// `Result<T, E>`: `T`'s arguments, or one `{ error: E }`.
    Result { ok: Vec<TsType>, err: TsType },
    /// Answered through an `AckSender`: not known from the types.
    Unknown,
}

/// The TypeScript shape of one event: its parameters and its ack.
///
/// Built by `#[namespace(.., typescript)]` and [`crate::Namespace::describe_event`] from an
/// argument tuple ([`DescribeArgs`]) and an ack ([`AckTypes`]).
#[derive(Debug, Clone)]
pub struct EventTypes {
    params: Vec<Param>,
    rest: bool,
    ack: Ack,
}

impl EventTypes {
    /// The shape of an event taking `A` (a tuple of handler parameters) and acking `R`, with
    /// `names` for the parameters (missing names are `arg0`, `arg1`, ..).
    pub fn new<A: DescribeArgs, R: AckTypes>(names: &[&'static str]) -> Self {
        let mut types = EventTypes {
            params: Vec::new(),
            rest: false,
            ack: Ack::None,
        };
        R::describe_ack(&mut types);
        A::describe_args(&mut types, names);
        types
    }

    /// An event acking `R` whose parameters are added one by one with
    /// [`DescribeArg::describe_arg`] (what `#[namespace(.., typescript)]` generates).
    pub fn with_ack<R: AckTypes>() -> Self {
        Self::new::<(), R>(&[])
    }

    /// The shape of a server → client event taking the arguments `A` (a tuple of `TS` types),
    /// named by `names`.
    pub fn emitted<A: AckArgs>(names: &[&'static str]) -> Self {
        let mut names = names.iter().copied();
        EventTypes {
            params: A::types()
                .into_iter()
                .map(|ty| Param {
                    name: names.next(),
                    ty,
                })
                .collect(),
            rest: false,
            ack: Ack::None,
        }
    }

    /// Adds a parameter of type `T`.
    pub fn push_param<T: TS + 'static + ?Sized>(&mut self, name: Option<&'static str>) {
        self.params.push(Param {
            name,
            ty: TsType::of::<T>(),
        });
    }

    /// Takes every remaining argument (`Args`): `...rest: any[]`.
    pub fn push_rest(&mut self) {
        self.rest = true;
    }

    /// The ack is sent through an `AckSender`, so its type is unknown.
    pub fn ack_unknown(&mut self) {
        self.ack = Ack::Unknown;
    }

    fn collect(&self, c: &mut Collector) {
        for p in &self.params {
            (p.ty.collect)(c);
        }
        match &self.ack {
            Ack::Args(tys) => tys.iter().for_each(|t| (t.collect)(c)),
            Ack::Result { ok, err } => {
                ok.iter().for_each(|t| (t.collect)(c));
                (err.collect)(c);
            }
            Ack::None | Ack::Unknown => {}
        }
    }

    /// `(a: A, b?: B | null, callback: (..) => void) => void`
    fn render(&self, cfg: &ts_rs::Config, with_ack: bool) -> String {
        // Only a trailing run of `Option`s may be left out by the client.
        let optional_from = self
            .params
            .iter()
            .rposition(|p| !p.ty.is_option)
            .map_or(0, |i| i + 1);
        let mut params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let name = p.name.map_or_else(|| format!("arg{i}"), ident);
                let q = if i >= optional_from && !(with_ack && self.has_callback()) {
                    "?"
                } else {
                    ""
                };
                format!("{name}{q}: {}", (p.ty.name)(cfg))
            })
            .collect();
        if self.rest {
            params.push("...rest: any[]".to_owned());
        } else if with_ack {
            let callback = match &self.ack {
                Ack::None => None,
                Ack::Args(tys) => Some(format!("({})", positional(tys, cfg))),
                Ack::Result { ok, err } if ok.len() == 1 => Some(format!(
                    "(res: {} | {{ error: {} }})",
                    (ok[0].name)(cfg),
                    (err.name)(cfg)
                )),
                Ack::Result { ok, err } => {
                    let ok: Vec<String> = ok.iter().map(|t| (t.name)(cfg)).collect();
                    Some(format!(
                        "(...args: [{}] | [{{ error: {} }}])",
                        ok.join(", "),
                        (err.name)(cfg)
                    ))
                }
                Ack::Unknown => Some("(...args: any[])".to_owned()),
            };
            if let Some(callback) = callback {
                params.push(format!("callback: {callback} => void"));
            }
        }
        format!("({}) => void", params.join(", "))
    }

    fn has_callback(&self) -> bool {
        !matches!(self.ack, Ack::None)
    }
}

fn positional(tys: &[TsType], cfg: &ts_rs::Config) -> String {
    tys.iter()
        .enumerate()
        .map(|(i, t)| format!("arg{i}: {}", (t.name)(cfg)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A Rust parameter name as a TypeScript one (`r#type` → `type_`, `_` → `arg`).
fn ident(name: &'static str) -> String {
    let name = name.trim_start_matches("r#");
    match name {
        "" | "_" => "arg".to_owned(),
        "type" | "function" | "var" | "let" | "const" | "class" | "new" | "delete" | "default"
        | "this" | "void" | "with" | "switch" | "case" | "typeof" | "instanceof" | "import"
        | "export" | "yield" | "await" | "enum" | "extends" | "super" | "null" | "true"
        | "false" | "catch" | "finally" | "throw" | "try" | "debugger" | "do" | "while" | "for"
        | "if" | "else" | "return" | "break" | "continue" | "in" => format!("{name}_"),
        _ => name.to_owned(),
    }
}

/// A handler parameter as seen by TypeScript: an event argument (any `TS + Deserialize` type),
/// or an extractor that takes none (`EventName`), takes the ack (`AckSender`) or all arguments
/// (`Args`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no TypeScript description",
    label = "derive `TS` for this type",
    note = "with #[namespace(.., typescript)] every event argument needs `#[derive(TS)]` \
            (socketio_core::typescript::TS, ts-rs) next to its `Deserialize`"
)]
pub trait DescribeArg {
    /// Adds what this parameter means to `types`; `name` is the Rust parameter's name.
    fn describe_arg(types: &mut EventTypes, name: Option<&'static str>);
}

#[diagnostic::do_not_recommend]
impl<T: TS + serde::de::DeserializeOwned + 'static> DescribeArg for T {
    fn describe_arg(types: &mut EventTypes, name: Option<&'static str>) {
        types.push_param::<T>(name);
    }
}

/// A tuple of handler parameters ([`DescribeArg`] each): `()`, `(A,)`, `(A, B)`, .. up to 8.
pub trait DescribeArgs {
    /// Adds every parameter, named by `names` in order.
    fn describe_args(types: &mut EventTypes, names: &[&'static str]);
}

#[diagnostic::on_unimplemented(
    message = "`{Self}` has no TypeScript description as an ack",
    label = "the ack's types need `TS`",
    note = "an ack is described as a tuple of `TS` types (`()`, `(T,)`, `(A, B)`) or `Result<(T,), E>`; \
            derive `TS` (socketio_core::typescript::TS, ts-rs) for the returned types"
)]
/// The arguments of an ack, as a tuple of `TS` types: `()` (no ack), `(A,)`, `(A, B)`, .. up
/// to 8, or `Result<T, E>` with `T` such a tuple (`Ok` acks like `T`, `Err(e)` as
/// `{"error": e}`).
pub trait AckTypes {
    /// Sets the ack of `types`.
    fn describe_ack(types: &mut EventTypes);
}

impl<T: AckArgs, E: TS + 'static> AckTypes for Result<T, E> {
    fn describe_ack(types: &mut EventTypes) {
        types.ack = Ack::Result {
            ok: T::types(),
            err: TsType::of::<E>(),
        };
    }
}

/// A tuple of ack arguments (the `Ok` side of an [`AckTypes`] `Result`).
pub trait AckArgs {
    /// One description per argument.
    #[doc(hidden)]
    fn types() -> Vec<TsType>;
}

macro_rules! impl_tuples {
    ($($ty:ident),*) => {
        impl<$($ty: DescribeArg,)*> DescribeArgs for ($($ty,)*) {
            #[allow(unused_variables, unused_mut)]
            fn describe_args(types: &mut EventTypes, names: &[&'static str]) {
                let mut names = names.iter().copied();
                $( $ty::describe_arg(types, names.next()); )*
            }
        }

        impl<$($ty: TS + 'static,)*> AckArgs for ($($ty,)*) {
            fn types() -> Vec<TsType> {
                vec![$(TsType::of::<$ty>()),*]
            }
        }

        impl<$($ty: TS + 'static,)*> AckTypes for ($($ty,)*) {
            fn describe_ack(types: &mut EventTypes) {
                let args = <Self as AckArgs>::types();
                types.ack = if args.is_empty() { Ack::None } else { Ack::Args(args) };
            }
        }
    };
}

impl_tuples!();
impl_tuples!(A1);
impl_tuples!(A1, A2);
impl_tuples!(A1, A2, A3);
impl_tuples!(A1, A2, A3, A4);
impl_tuples!(A1, A2, A3, A4, A5);
impl_tuples!(A1, A2, A3, A4, A5, A6);
impl_tuples!(A1, A2, A3, A4, A5, A6, A7);
impl_tuples!(A1, A2, A3, A4, A5, A6, A7, A8);

/// The server → client events of a type (what `#[derive(ServerEvents)]` with
/// `#[server_events(typescript)]` implements): each event's name and arguments.
pub trait ServerEventTypes {
    /// `(event name, its arguments)` for each event, in declaration order.
    fn server_event_types() -> Vec<(&'static str, EventTypes)>;
}

/// What one namespace declares: its events, its server → client events, its auth type.
#[derive(Debug, Clone, Default)]
pub struct NamespaceTypes {
    events: BTreeMap<String, EventTypes>,
    emits: Vec<(String, EventTypes)>,
    auth: Option<Option<TsType>>,
}

impl NamespaceTypes {
    /// Declares (or replaces) the client → server event `name`.
    pub fn set_event(&mut self, name: impl Into<String>, types: EventTypes) {
        self.events.insert(name.into(), types);
    }

    /// Forgets the declaration of `name`.
    pub fn remove_event(&mut self, name: &str) {
        self.events.remove(name);
    }

    /// Declares the connect handler's auth payload (`None`: takes none).
    pub fn set_auth(&mut self, auth: Option<TsType>) {
        self.auth = Some(auth);
    }

    /// Adds the server → client events of `E` (replacing events of the same names).
    pub fn add_emits<E: ServerEventTypes + ?Sized>(&mut self) {
        for (name, types) in E::server_event_types() {
            self.emits.retain(|(n, _)| n != name);
            self.emits.push((name.to_owned(), types));
        }
    }
}

/// The auth type of `A` (`describe_auth`, the `#[on_connect]` parameter).
pub fn auth_type<A: TS + 'static>() -> TsType {
    TsType::of::<A>()
}

/// A type named twice with different declarations, or clashing with a generated name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypeScriptError {
    /// Two Rust types have the same TypeScript name (e.g. two `Auth` structs in different
    /// modules): rename one with `#[ts(rename = "..")]`.
    #[error(
        "two types are declared as `{name}` in TypeScript ({first} and {second}): \
         rename one with #[ts(rename = \"..\")]"
    )]
    DuplicateName {
        /// The TypeScript name.
        name: String,
        /// One Rust type.
        first: String,
        /// The other.
        second: String,
    },
    /// A Rust type's TypeScript name is one the generator uses for a namespace.
    #[error(
        "the type {rust} is declared as `{name}`, a name generated for namespace {namespace}: \
         rename it with #[ts(rename = \"..\")]"
    )]
    ReservedName {
        /// The TypeScript name.
        name: String,
        /// The Rust type.
        rust: String,
        /// The namespace path.
        namespace: String,
    },
    /// Two namespace paths give the same prefix (`/a-b` and `/a_b`).
    #[error("namespaces {first} and {second} both give the TypeScript prefix `{prefix}`")]
    DuplicatePrefix {
        /// The prefix.
        prefix: String,
        /// One path.
        first: String,
        /// The other.
        second: String,
    },
}

/// The prefix of a namespace's declarations: `/` → `""`, `/chat` → `"Chat"`,
/// `/admin-panel/v2` → `"AdminPanelV2"`.
pub fn prefix(path: &str) -> String {
    let mut out = String::new();
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'N');
    }
    out
}

/// Renders the declarations of `namespaces` (path, types) into one `.d.ts` text: every type
/// they name once, then per namespace `{Prefix}ClientToServerEvents`,
/// `{Prefix}ServerToClientEvents` and `{Prefix}SocketAuth`.
///
/// # Errors
///
/// [`TypeScriptError`] when two types share a TypeScript name, or a type is named like a
/// generated declaration.
pub fn render(namespaces: &[(String, NamespaceTypes)]) -> Result<String, TypeScriptError> {
    let cfg = config();
    let mut collector = Collector::default();
    let mut generated: BTreeMap<String, String> = BTreeMap::new();
    for (path, ns) in namespaces {
        ns.events.values().for_each(|e| e.collect(&mut collector));
        ns.emits.iter().for_each(|(_, e)| e.collect(&mut collector));
        if let Some(Some(auth)) = &ns.auth {
            (auth.collect)(&mut collector);
        }
        let p = prefix(path);
        if let Some((_, first)) = generated
            .iter()
            .find(|(k, _)| **k == format!("{p}SocketAuth"))
        {
            return Err(TypeScriptError::DuplicatePrefix {
                prefix: p,
                first: first.clone(),
                second: path.clone(),
            });
        }
        for name in ["ClientToServerEvents", "ServerToClientEvents", "SocketAuth"] {
            generated.insert(format!("{p}{name}"), path.clone());
        }
    }
    let mut out = String::from(
        "// TypeScript declarations of a socketio-rs server's namespaces, generated from its\n\
         // handlers (socketio_core::typescript). Do not edit: regenerate.\n\n",
    );
    for (name, decls) in &collector.decls {
        if decls.len() > 1 {
            return Err(TypeScriptError::DuplicateName {
                name: name.clone(),
                first: decls[0].1.to_owned(),
                second: decls[1].1.to_owned(),
            });
        }
        if let Some(namespace) = generated.get(name) {
            return Err(TypeScriptError::ReservedName {
                name: name.clone(),
                rust: decls[0].1.to_owned(),
                namespace: namespace.clone(),
            });
        }
        out.push_str(&decls[0].0);
        out.push_str("\n\n");
    }
    for (path, ns) in namespaces {
        let p = prefix(path);
        let _ = writeln!(
            out,
            "/** Events the client emits in namespace \"{path}\". */"
        );
        let _ = writeln!(out, "export interface {p}ClientToServerEvents {{");
        for (name, types) in &ns.events {
            let _ = writeln!(out, "  {}: {};", key(name), types.render(&cfg, true));
        }
        out.push_str("}\n\n");
        let _ = writeln!(
            out,
            "/** Events the server emits in namespace \"{path}\". */"
        );
        let _ = writeln!(out, "export interface {p}ServerToClientEvents {{");
        for (name, types) in &ns.emits {
            let _ = writeln!(out, "  {}: {};", key(name), types.render(&cfg, false));
        }
        out.push_str("}\n\n");
        let auth = match &ns.auth {
            Some(Some(auth)) => (auth.name)(&cfg),
            Some(None) => "undefined".to_owned(),
            None => "unknown".to_owned(),
        };
        let _ = writeln!(
            out,
            "/** The `auth` option of a client of namespace \"{path}\". */\n\
             export type {p}SocketAuth = {auth};\n"
        );
    }
    Ok(out)
}

/// An event name as an interface key: bare when it is an identifier, quoted otherwise.
fn key(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if bare {
        name.to_owned()
    } else {
        serde_json::to_string(name).unwrap_or_default()
    }
}

/// The dynamic [`crate::Value`] is `any` in TypeScript.
impl TS for crate::args::Value {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "any".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "any".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(prefix("/"), "");
        assert_eq!(prefix("/chat"), "Chat");
        assert_eq!(prefix("/admin-panel/v2"), "AdminPanelV2");
        assert_eq!(prefix("/2fa"), "N2fa");
    }

    #[test]
    fn keys_and_idents() {
        assert_eq!(key("message"), "message");
        assert_eq!(key("add numbers"), "\"add numbers\"");
        assert_eq!(key("a:b"), "\"a:b\"");
        assert_eq!(ident("r#type"), "type_");
        assert_eq!(ident("_"), "arg");
    }

    #[test]
    fn trailing_options_are_optional_unless_a_callback_follows() {
        let cfg = config();
        let e = EventTypes::new::<(String, Option<u32>, Option<bool>), ()>(&["a", "b", "c"]);
        assert_eq!(
            e.render(&cfg, true),
            "(a: string, b?: number | null, c?: boolean | null) => void"
        );
        let e = EventTypes::new::<(Option<String>, String), (u64,)>(&["a", "b"]);
        assert_eq!(
            e.render(&cfg, true),
            "(a: string | null, b: string, callback: (arg0: number) => void) => void"
        );
        let e = EventTypes::new::<(String,), Result<(), String>>(&[]);
        assert_eq!(
            e.render(&cfg, true),
            "(arg0: string, callback: (...args: [] | [{ error: string }]) => void) => void"
        );
    }
}
